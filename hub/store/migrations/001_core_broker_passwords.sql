-- External brokers (Mosquitto) check device passwords themselves: keep a hash in the broker's own
-- format (Mosquitto password_file `$7$` PBKDF2-SHA512) so `hadir device broker-passwd` can write
-- its password file. NULL for devices enrolled before this column existed (re-enrol them).
ALTER TABLE devices ADD COLUMN broker_password_hash TEXT;
