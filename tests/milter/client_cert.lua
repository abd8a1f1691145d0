-- A client presenting a certificate listed in trusted_client_certs (Sendmail
-- {cert_fp}, any case and separators) may relay; another certificate may not.
dofile(lib .. "/common.lua")
local trusted = "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99"
local other = "00:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
local c = pg_open("25", "MTA", "192.0.2.10")
pg_helo(c, { "TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", trusted })
pg_mail(c, "QCERTOK", nil, CONT)
pg_rcpt(c, "user@remote.example", CONT)
pg_close(c)
c = pg_open("25", "MTA", "192.0.2.10")
pg_helo(c, { "TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", other })
pg_mail(c, "QCERTNO", nil, CONT)
pg_rcpt(c, "user@remote.example", REPLY)
pg_close(c)
