-- SPEC row 5: fewer cipher bits than min_cipher_bits -> 530 5.7.0 Cipher not accepted.
dofile(lib .. "/common.lua")
local c = pg_open("10588", nil, "192.0.2.10")
pg_helo(c, TLS13_WEAK)
pg_mail(c, "QROW5", AUTH, REPLY)
pg_close(c)
