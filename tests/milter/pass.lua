-- No rule fails: TLS 1.3 and AUTH on 587 -> continue at every stage.
dofile(lib .. "/common.lua")
local c = pg_open("587", nil, "192.0.2.10")
pg_helo(c, TLS13)
pg_mail(c, "QPASS", AUTH, CONT)
pg_rcpt(c, "someone@remote.example", CONT)
pg_eom(c)
pg_close(c)
