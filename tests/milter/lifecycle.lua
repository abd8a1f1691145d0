-- The libmilter lifecycle: a session closed before MAIL, an aborted
-- transaction followed by a new one, a MAIL-stage reject followed by a
-- transaction that passes, and many messages on one connection.
dofile(lib .. "/common.lua")
local c = pg_open("587", nil, "192.0.2.10")
pg_helo(c, nil)
pg_close(c)

c = pg_open("587", nil, "192.0.2.10")
pg_helo(c, TLS13)
pg_mail(c, "QABORT1", AUTH, CONT)
pg_rcpt(c, "a@remote.example", CONT)
if mt.abort(c) ~= nil then error("mt.abort() failed") end
pg_mail(c, "QABORT2", AUTH, CONT)
pg_rcpt(c, "b@remote.example", CONT)
pg_eom(c)
pg_close(c)

c = pg_open("25", "MTA", "192.0.2.10")
pg_helo(c, nil)
pg_mail(c, "QRETRY1", nil, CONT)
pg_rcpt(c, "x@remote.example", REPLY)
if mt.abort(c) ~= nil then error("mt.abort() failed") end
pg_mail(c, "QRETRY2", nil, CONT)
pg_rcpt(c, "x@example.org", CONT)
pg_eom(c)
pg_close(c)

c = pg_open("587", nil, "192.0.2.10")
pg_helo(c, TLS12)
for i = 1, 20 do
	pg_mail(c, "QMANY" .. i, AUTH, CONT)
	pg_rcpt(c, "r" .. i .. "@remote.example", CONT)
	pg_eom(c)
end
pg_close(c)
