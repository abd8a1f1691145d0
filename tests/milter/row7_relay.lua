-- SPEC row 7: relay port, untrusted and unauthenticated client: local
-- recipients pass, remote ones get 554 5.7.1 at RCPT (MAIL passes). The
-- MTA's resolved {rcpt_mailer}/{rcpt_addr} may confirm "remote" (the MTA
-- rewrote the address to a remote one), but a listed domain the MTA forwards
-- (a gateway) stays local. A trusted network or an authenticated (TLS)
-- session relays.
dofile(lib .. "/common.lua")
local c = pg_open("25", "MTA", "192.0.2.10")
pg_helo(c, nil)
pg_mail(c, "QROW7", nil, CONT)
pg_rcpt(c, "user@example.org", CONT)
pg_rcpt(c, "user@remote.example", REPLY)
pg_rcpt(c, "user%remote.example@example.org", REPLY)
pg_rcpt(c, "other@example.org", REPLY, "smtp", "mx.remote.example", "other@remote.example")
pg_rcpt(c, "gateway@example.org", CONT, "esmtp", "[10.0.0.5]")
pg_rcpt(c, "postmaster", CONT)
pg_close(c)

c = pg_open("25", "MTA", "10.1.2.3")
pg_helo(c, nil)
pg_mail(c, "QROW7T", nil, CONT)
pg_rcpt(c, "user@remote.example", CONT)
pg_close(c)

c = pg_open("25", "MTA", "192.0.2.10")
pg_helo(c, TLS12)
pg_mail(c, "QROW7A", AUTH, CONT)
pg_rcpt(c, "user@remote.example", CONT)
pg_eom(c)
pg_close(c)
