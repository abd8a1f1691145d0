-- common.lua - helpers for the portguard-milter miltertest scripts.
-- Loaded with dofile(lib .. "/common.lua"); run.sh defines the globals
-- `sock` (the milter's socket) and `lib` (this directory) with -D.
-- Every helper raises an error (miltertest exits non-zero) when the milter
-- answers anything but what the caller expects.

local unpack = table.unpack or unpack

CONT = SMFIR_CONTINUE
REPLY = SMFIR_REPLYCODE -- a reject or tempfail with portguard's own text

TLS13 = { "TLSv1.3", "TLS_AES_256_GCM_SHA384", "256" }
TLS12 = { "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "256" }
TLS11 = { "TLSv1.1", "ECDHE-RSA-AES128-SHA", "128" }
TLS13_WEAK = { "TLSv1.3", "TLS_AES_128_GCM_SHA256", "128" }
AUTH = { "PLAIN", "bob" }

function expect(got, want, what)
	if got ~= want then
		error(string.format("%s: reply %s, want %s", what, tostring(got), tostring(want)))
	end
end

-- A new SMTP session. port / name / addr may be nil (macro not sent); ip is
-- the connect sockaddr; v the MTA's "v" macro (default: a Sendmail version).
function pg_open(port, name, addr, ip, v)
	local conn = mt.connect(sock, 40, 0.05)
	if conn == nil then
		error("cannot connect to " .. sock)
	end
	local m = { "j", "mx.example.org", "v", v or "8.17.1.9", "{client_port}", "40001" }
	if port ~= nil then
		table.insert(m, "{daemon_port}"); table.insert(m, port)
	end
	if name ~= nil then
		table.insert(m, "{daemon_name}"); table.insert(m, name)
	end
	if addr ~= nil then
		table.insert(m, "{client_addr}"); table.insert(m, addr)
	end
	if mt.macro(conn, SMFIC_CONNECT, unpack(m)) ~= nil then
		error("mt.macro(CONNECT) failed")
	end
	if mt.conninfo(conn, "client.example.net", ip or "192.0.2.10") ~= nil then
		error("mt.conninfo() failed")
	end
	expect(mt.getreply(conn), CONT, "CONNECT")
	return conn
end

-- HELO/EHLO; tls = { version, cipher, bits [, Sendmail {cert_fp}] } after
-- STARTTLS, or nil.
function pg_helo(conn, tls)
	if tls ~= nil and tls[4] ~= nil then
		mt.macro(conn, SMFIC_HELO, "{tls_version}", tls[1], "{cipher}", tls[2],
		    "{cipher_bits}", tls[3], "{cert_subject}", "CN=client.example.net",
		    "{cert_fp}", tls[4])
	elseif tls ~= nil then
		mt.macro(conn, SMFIC_HELO, "{tls_version}", tls[1], "{cipher}", tls[2],
		    "{cipher_bits}", tls[3])
	end
	if mt.helo(conn, "client.example.net") ~= nil then
		error("mt.helo() failed")
	end
	expect(mt.getreply(conn), CONT, "HELO")
end

-- MAIL FROM with the queue id qid; auth = { method, user } or nil.
function pg_mail(conn, qid, auth, want)
	if auth ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", qid, "{auth_type}", auth[1], "{auth_authen}", auth[2])
	else
		mt.macro(conn, SMFIC_MAIL, "i", qid)
	end
	if mt.mailfrom(conn, "<sender@example.net>") ~= nil then
		error("mt.mailfrom() failed")
	end
	expect(mt.getreply(conn), want, "MAIL " .. qid)
end

-- RCPT TO; mailer/host/addr: the MTA's resolved {rcpt_mailer}/{rcpt_host}/
-- {rcpt_addr}, or nil (addr defaults to rcpt: the MTA resolved it to itself).
function pg_rcpt(conn, rcpt, want, mailer, host, addr)
	if mailer ~= nil then
		mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", addr or rcpt, "{rcpt_mailer}", mailer,
		    "{rcpt_host}", host)
	else
		mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", rcpt)
	end
	if mt.rcptto(conn, "<" .. rcpt .. ">") ~= nil then
		error("mt.rcptto() failed")
	end
	expect(mt.getreply(conn), want, "RCPT " .. rcpt)
end

function pg_eom(conn)
	if mt.eom(conn) ~= nil then
		error("mt.eom() failed")
	end
	expect(mt.getreply(conn), CONT, "EOM")
end

function pg_close(conn)
	if mt.disconnect(conn) ~= nil then
		error("mt.disconnect() failed")
	end
end
