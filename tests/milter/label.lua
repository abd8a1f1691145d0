-- Port identity by label: {daemon_name}=MSA matches the entry named MSA
-- (a submission port) whatever the number; an unknown number warns once.
dofile(lib .. "/common.lua")
local c = pg_open(nil, "MSA", "192.0.2.10")
pg_helo(c, nil)
pg_mail(c, "QLABEL", nil, REPLY)
pg_close(c)
for i = 1, 2 do
	c = pg_open("2526", nil, "192.0.2.10")
	pg_helo(c, nil)
	pg_mail(c, "QUNKNOWN" .. i, nil, CONT)
	pg_close(c)
end
