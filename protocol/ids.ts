import { v7 as uuidv7, validate, version } from 'uuid';

/** UUIDv7: time-ordered, made on the kiosk, the punch's identity for exactly-once storage. */
export function newId(): string {
  return uuidv7();
}

export function isUuidV7(s: string): boolean {
  return validate(s) && version(s) === 7;
}

/** A UUIDv7 whose time field is `ms` (a kiosk makes the id from the same clock reading as capturedAt). */
export function newIdAt(ms: number): string {
  return uuidv7({ msecs: ms });
}

/** The Unix time in ms a UUIDv7 carries in its first 48 bits. */
export function uuidV7Ms(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
