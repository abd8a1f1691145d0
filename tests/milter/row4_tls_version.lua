-- SPEC row 4: TLS older than min_tls_version -> 530 5.7.0 "TLSv1.2 or later required".
dofile(lib .. "/common.lua")
local c = pg_open("587", nil, "192.0.2.10")
pg_helo(c, TLS11)
pg_mail(c, "QROW4", AUTH, REPLY)
pg_close(c)
