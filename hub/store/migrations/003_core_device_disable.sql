-- Taking a kiosk out of service (`hadir device disable`, POST /api/v1/devices/{id}/disable):
-- devices.disabled_at (000_core) says since when; these say why and who. All three are cleared by
-- `hadir device enable`.
ALTER TABLE devices ADD COLUMN disabled_reason TEXT;
ALTER TABLE devices ADD COLUMN disabled_by TEXT;      -- hub username (HTTP) or cli:<os user>
