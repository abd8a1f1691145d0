-- SPEC row 3: no TLS on a port that requires it -> 530 5.7.0 at MAIL; on an
-- implicit-TLS port also the "MTA is not wrapping this port" error line.
-- want = "continue" (run.sh -D) when the port is in monitor mode.
dofile(lib .. "/common.lua")
local w = REPLY
if want == "continue" then w = CONT end
local c = pg_open("587", nil, "192.0.2.10")
pg_helo(c, nil)
pg_mail(c, "QROW3", nil, w)
if w == CONT then
	pg_rcpt(c, "user@example.org", CONT)
	pg_rcpt(c, "user@remote.example", CONT)
	pg_eom(c)
end
pg_close(c)
c = pg_open("465", nil, "192.0.2.10")
pg_helo(c, nil)
pg_mail(c, "QROW3I", nil, w)
pg_close(c)
