-- SPEC row 2: authenticated on a port with auth = "forbidden" -> 550 5.7.1 at MAIL.
dofile(lib .. "/common.lua")
local c = pg_open("10026", nil, "192.0.2.10")
pg_helo(c, TLS13)
pg_mail(c, "QROW2", AUTH, REPLY)
pg_close(c)
