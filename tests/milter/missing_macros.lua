-- Neither {daemon_port} nor {daemon_name}: a warning naming the line to add
-- for the MTA that "v" names (Sendmail, then Postfix), and default_role
-- (relay) applies: MAIL passes, remote RCPT refused. No {client_addr}
-- either: the address comes from the connect sockaddr.
dofile(lib .. "/common.lua")
local c = pg_open(nil, nil, nil, "192.0.2.44")
pg_helo(c, nil)
pg_mail(c, "QMISSING", nil, CONT)
pg_rcpt(c, "user@remote.example", REPLY)
pg_close(c)
c = pg_open(nil, nil, nil, "192.0.2.45", "Postfix 3.7.11")
pg_helo(c, nil)
pg_mail(c, "QMISSINGPF", nil, CONT)
pg_close(c)
