-- End of service (pensiun, berhenti, meninggal, mutasi keluar) and reinstatement (hub/org/exit.ts).
-- A row is a period out of service: [from_date, reinstated_from). It is open (reinstated_from NULL)
-- until the employee is reinstated; reinstatement closes the row, it is never deleted, so the
-- history of who ended whose service, when and why stays. At most one open row per employee.
-- staff.active keeps meaning "in service today" and follows these rows (set when a date is reached).
CREATE TABLE staff_exits (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  nip              TEXT NOT NULL REFERENCES staff(nip),
  from_date        TEXT NOT NULL,                  -- first day no longer in service (YYYY-MM-DD)
  reason           TEXT NOT NULL CHECK (reason IN ('pensiun', 'berhenti', 'meninggal', 'mutasi_keluar')),
  note             TEXT,                           -- SK number, letter, remark
  ended_by         TEXT NOT NULL,
  ended_at         TEXT NOT NULL,
  reinstated_from  TEXT,                           -- first day in service again; NULL = still out of service
  reinstated_by    TEXT,
  reinstated_at    TEXT,
  CHECK (reinstated_from IS NULL OR reinstated_from >= from_date)
);
CREATE UNIQUE INDEX staff_exits_open ON staff_exits (nip) WHERE reinstated_from IS NULL;
CREATE INDEX staff_exits_nip ON staff_exits (nip, from_date);
