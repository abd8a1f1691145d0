-- SPEC row 1: authenticated without TLS -> 538 5.7.11 at MAIL, on every
-- transaction; the alarm is logged once per session (run.sh counts it).
dofile(lib .. "/common.lua")
local c = pg_open("25", "MTA", "192.0.2.10")
pg_helo(c, nil)
pg_mail(c, "QROW1A", AUTH, REPLY)
pg_mail(c, "QROW1B", AUTH, REPLY)
pg_close(c)
