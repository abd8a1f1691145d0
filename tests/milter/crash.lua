-- The traffic of the crash test (run.sh, issue 14): stats.lua's mix without
-- its session that closes before MAIL, so that every session ends with a
-- "session closed" line run.sh can wait for before the kill -9:
--   587: sessions=2 transactions=3 recipients=2 tls=1 plaintext=1 TLSv1.3=1
--        auth=1 auth_plaintext=0 rejected=1 reject_tls_required=1
--   25:  sessions=2 transactions=2 recipients=2 tls=0 plaintext=2 auth=1
--        auth_plaintext=1 rejected=2 reject_plaintext_auth=1 reject_relay=1
dofile(lib .. "/common.lua")
-- 587, upgraded with STARTTLS, authenticated, two messages
local c = pg_open("587", nil, "192.0.2.10")
pg_helo(c, nil)
pg_helo(c, TLS13)
for i = 1, 2 do
	pg_mail(c, "QCRASH" .. i, AUTH, CONT)
	pg_rcpt(c, "r" .. i .. "@remote.example", CONT)
	pg_eom(c)
end
pg_close(c)
-- 587, stayed plaintext: refused at MAIL
c = pg_open("587", nil, "192.0.2.10")
pg_helo(c, nil)
pg_mail(c, "QCRASH3", nil, REPLY)
pg_close(c)
-- 25, authenticated without TLS
c = pg_open("25", nil, "192.0.2.10")
pg_helo(c, nil)
pg_mail(c, "QCRASH4", AUTH, REPLY)
pg_close(c)
-- 25, one relay attempt refused, one local recipient
c = pg_open("25", nil, "192.0.2.10")
pg_helo(c, nil)
pg_mail(c, "QCRASH5", nil, CONT)
pg_rcpt(c, "x@remote.example", REPLY)
pg_rcpt(c, "x@example.org", CONT)
pg_eom(c)
pg_close(c)
