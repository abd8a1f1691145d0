-- Reload on SIGUSR1 never changes a session in progress: a connection opened
-- under the enforcing config keeps that config after the reload swapped in a
-- monitoring one (run.sh has written it); a new connection gets the new one.
-- Globals from run.sh: pid (the milter), log (its stderr file).
dofile(lib .. "/common.lua")

local function sh_ok(cmd)
	local r = os.execute(cmd)
	return r == true or r == 0
end

local old = pg_open("587", nil, "192.0.2.10")
pg_helo(old, nil)
if not sh_ok("kill -USR1 " .. pid) then
	error("cannot signal the milter")
end
local reloaded = false
for i = 1, 100 do
	if sh_ok("grep -qF 'reloaded: daemon=portguard-milter' '" .. log .. "'") then
		reloaded = true
		break
	end
	mt.sleep(0.1)
end
if not reloaded then
	error("no reloaded line within 10 s")
end
pg_mail(old, "QSNAPOLD", nil, REPLY)
pg_close(old)

local new = pg_open("587", nil, "192.0.2.10")
pg_helo(new, nil)
pg_mail(new, "QSNAPNEW", nil, CONT)
pg_close(new)
