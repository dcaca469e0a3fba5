-- Admission of one lane shard: move due waiting jobs into their lanes, then top the shard's
-- ready list up to `depth` messages, fairly across its orgs (see lanes_admission.lua).
-- Every key shares the shard's tag.
-- KEYS[1]: the shard's lane prefix ``{<ns>:q:<queue>}`` (lane keys are KEYS[1] .. suffix);
-- KEYS[2]: the ready list ``<p>:ready``; KEYS[3]: the message bodies ``<p>:msgs``.
-- ARGV: depth, max_moves (bound on waiting jobs relaned per call), now (ms; optional,
-- '' or absent: the server's clock).
-- Returns {moved, still laned}.
--!include lanes_admission.lua
local moved, backlog = admit(
  KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1]), tonumber(ARGV[2]), now_ms(ARGV[3]))
return {moved, backlog}
