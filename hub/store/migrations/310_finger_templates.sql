-- Fingerprint templates per employee and finger (ISO/IEC 19794-2 finger position: 1 right thumb …
-- 5 right little, 6 left thumb … 10 left little, 0 unknown). The bytes are the sensor's character
-- file as uploaded by a kiosk in enrolment mode (UpChar); kiosks load them into their sensor.
CREATE TABLE finger_templates (
  nip                 TEXT NOT NULL REFERENCES staff(nip),
  finger              INTEGER NOT NULL CHECK (finger BETWEEN 0 AND 10),
  template            BLOB NOT NULL,
  sha256              TEXT NOT NULL,
  enrolled_device_id  TEXT REFERENCES devices(id),
  enrolled_at         TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  PRIMARY KEY (nip, finger)
);
