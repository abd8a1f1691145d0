-- Option negotiation: the milter asks to set its macro lists
-- (SMFIF_SETSYMLIST), skips the stages it does not need (headers, body, EOH,
-- unknown commands, DATA), leaves SMFIP_RCPT_REJ off, and answers CONNECT
-- and HELO (no SMFIP_NR_CONN/SMFIP_NR_HELO: the reply makes Postfix wait
-- until the milter has read a session that ends before MAIL; see
-- milter/callbacks.c). Offered an MTA without SMFIF_SETSYMLIST, it still
-- negotiates and decides from the MTA's own macro lists.
dofile(lib .. "/common.lua")

local function must(cond, what)
	if not cond then
		error("negotiation: " .. what)
	end
end

local c = mt.connect(sock, 40, 0.05)
must(c ~= nil, "cannot connect")
must(mt.negotiate(c, nil, nil, nil) == nil, "default negotiation failed")
must(mt.test_action(c, SMFIF_SETSYMLIST), "SMFIF_SETSYMLIST not requested")
must(not mt.test_action(c, SMFIF_ADDHDRS), "asked to add headers")
must(not mt.test_action(c, SMFIF_QUARANTINE), "asked to quarantine")
for _, step in ipairs({ SMFIP_NOHDRS, SMFIP_NOBODY, SMFIP_NOEOH, SMFIP_NOUNKNOWN,
    SMFIP_NODATA }) do
	must(mt.test_option(c, step), "protocol step " .. step .. " not requested")
end
for _, step in ipairs({ SMFIP_NR_CONN, SMFIP_NR_HELO }) do
	must(not mt.test_option(c, step), "no reply asked for at step " .. step)
end
must(not mt.test_option(c, SMFIP_RCPT_REJ), "SMFIP_RCPT_REJ requested")
must(not mt.test_option(c, SMFIP_NOMAIL), "MAIL skipped")
must(not mt.test_option(c, SMFIP_NORCPT), "RCPT skipped")
pg_close(c)

-- an MTA that offers only the version 2 actions (no SMFIF_SETSYMLIST); note
-- miltertest's argument order is (conn, version, protocol steps, actions),
-- whatever its manual says
c = mt.connect(sock, 40, 0.05)
must(c ~= nil, "cannot connect")
must(mt.negotiate(c, nil, nil, 0x3f) == nil, "negotiation without SETSYMLIST failed")
must(not mt.test_action(c, SMFIF_SETSYMLIST), "SMFIF_SETSYMLIST requested anyway")
mt.macro(c, SMFIC_CONNECT, "{daemon_port}", "587", "{client_addr}", "192.0.2.10")
must(mt.conninfo(c, "client.example.net", "192.0.2.10") == nil, "conninfo")
expect(mt.getreply(c), CONT, "CONNECT")
pg_helo(c, nil)
pg_mail(c, "QNOSYMLIST", nil, REPLY)
pg_close(c)
