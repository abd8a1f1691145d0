-- SPEC row 6: TLS but no AUTH on a submission port -> 530 5.7.0 Authentication required.
dofile(lib .. "/common.lua")
local c = pg_open("587", nil, "192.0.2.10")
pg_helo(c, nil)
pg_helo(c, TLS13) -- EHLO again after STARTTLS
pg_mail(c, "QROW6", nil, REPLY)
pg_close(c)
