-- {client_addr} with Sendmail's "IPv6:" tag: stripped, matched against
-- trusted_networks (2001:db8:1::/48 is trusted in the test config).
dofile(lib .. "/common.lua")
local c = pg_open("25", "MTA", "IPv6:2001:db8:1::5", "2001:db8:1::5")
pg_helo(c, nil)
pg_mail(c, "QV6TRUST", nil, CONT)
pg_rcpt(c, "user@remote.example", CONT)
pg_close(c)
c = pg_open("25", "MTA", "IPv6:2001:db8:2::5", "2001:db8:2::5")
pg_helo(c, nil)
pg_mail(c, "QV6OTHER", nil, CONT)
pg_rcpt(c, "user@remote.example", REPLY)
pg_close(c)
