-- Hub-side punch checks (issue 13):
--  hash         sha256 of the punch's canonical unsigned fields (protocol punchHash): what the
--               next punch of the device must carry as prevHash
--  chain_break  1 when prevHash does not follow the stored previous punch of the device (a wiped
--               journal, a replaced or forged kiosk): stored, flagged, shown — not silently accepted
--  review_reason why a punch waits for review beyond an unsynced clock (an implausible capture
--               time: far future, long before it was received, or not matching its UUIDv7 time)
ALTER TABLE punches ADD COLUMN hash TEXT;
ALTER TABLE punches ADD COLUMN chain_break INTEGER NOT NULL DEFAULT 0;
ALTER TABLE punches ADD COLUMN review_reason TEXT;
CREATE INDEX punches_chain_break ON punches (device_id) WHERE chain_break = 1;
