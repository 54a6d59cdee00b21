import { v7 as uuidv7, validate, version } from 'uuid';

/** UUIDv7: time-ordered, made on the kiosk, the punch's identity for exactly-once storage. */
export function newId(): string {
  return uuidv7();
}

export function isUuidV7(s: string): boolean {
  return validate(s) && version(s) === 7;
}
