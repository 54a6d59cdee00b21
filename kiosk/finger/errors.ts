/**
 * Named errors of the fingerprint sensor. Two families:
 * - FingerConfirmationError: the sensor answered, with a non-zero confirmation code (a named code
 *   per value below). Some are ordinary outcomes (no finger, not found) that callers branch on.
 * - FingerLinkError subclasses: the line itself is broken (silence, garbage, bad checksum, truncated
 *   packet, wrong address, port gone). These make the sensor a fault in kiosk health.
 */

/** Confirmation codes of the R30x/R503/AS608 family, by name. */
export const CONFIRMATION_CODES = {
  0x01: ['PACKET_RECEIVE_ERROR', 'error when receiving data package'],
  0x02: ['NO_FINGER', 'no finger on the sensor'],
  0x03: ['IMAGE_FAIL', 'failed to enrol the finger image'],
  0x04: ['IMAGE_TOO_DRY', 'fingerprint image too dry or too light (AS608)'],
  0x05: ['IMAGE_TOO_WET', 'fingerprint image too wet or too dark (AS608)'],
  0x06: ['IMAGE_MESSY', 'image too disorderly to generate a character file'],
  0x07: ['FEATURE_FAIL', 'too few feature points to generate a character file'],
  0x08: ['NO_MATCH', 'finger does not match'],
  0x09: ['NOT_FOUND', 'no matching finger in the library'],
  0x0a: ['ENROLL_MISMATCH', 'failed to combine the character files (the two captures differ)'],
  0x0b: ['BAD_LOCATION', 'page id beyond the finger library'],
  0x0c: ['DB_READ_FAIL', 'error reading the template from the library, or the template is invalid'],
  0x0d: ['UPLOAD_FEATURE_FAIL', 'error uploading the template'],
  0x0e: ['PACKET_RESPONSE_FAIL', 'module cannot receive the following data packages'],
  0x0f: ['UPLOAD_IMAGE_FAIL', 'error uploading the image'],
  0x10: ['DELETE_FAIL', 'failed to delete the template'],
  0x11: ['DB_CLEAR_FAIL', 'failed to clear the finger library'],
  0x13: ['WRONG_PASSWORD', 'wrong password'],
  0x15: ['INVALID_IMAGE', 'no valid primary image in the image buffer'],
  0x18: ['FLASH_ERROR', 'error writing flash'],
  0x19: ['UNDEFINED_ERROR', 'no definition error'],
  0x1a: ['INVALID_REGISTER', 'invalid register number'],
  0x1b: ['BAD_REGISTER_CONFIG', 'incorrect configuration of register'],
  0x1c: ['BAD_NOTEPAD_PAGE', 'wrong notepad page number'],
  0x1d: ['COMM_PORT_FAIL', 'failed to operate the communication port'],
  0x1f: ['LIBRARY_FULL', 'the fingerprint library is full'],
  0x20: ['ADDRESS_CODE', 'the address code is incorrect'],
  0x21: ['PASSWORD_REQUIRED', 'the password must be verified first'],
  0x22: ['TEMPLATE_EMPTY', 'the fingerprint template is empty'],
  0x24: ['LIBRARY_EMPTY', 'the fingerprint library is empty'],
  0x26: ['SENSOR_TIMEOUT', 'timeout inside the sensor'],
  0x27: ['ALREADY_EXISTS', 'the fingerprint already exists'],
  0x29: ['SENSOR_HARDWARE', 'sensor hardware error'],
  0xfc: ['UNSUPPORTED_COMMAND', 'unsupported command (R503)'],
  0xfd: ['HARDWARE_ERROR', 'hardware error (R503)'],
  0xfe: ['COMMAND_FAILED', 'command execution failure (R503)'],
} as const satisfies Record<number, readonly [string, string]>;

export type ConfirmationName = (typeof CONFIRMATION_CODES)[keyof typeof CONFIRMATION_CODES][0] | 'UNKNOWN_CODE';

export abstract class FingerError extends Error {
  abstract readonly code: string;
}

export class FingerConfirmationError extends FingerError {
  override readonly name = 'FingerConfirmationError';
  readonly code: ConfirmationName;
  constructor(
    readonly command: string,
    readonly confirmation: number,
  ) {
    const entry = (CONFIRMATION_CODES as Record<number, readonly [string, string]>)[confirmation];
    super(`${command}: sensor answered 0x${confirmation.toString(16).padStart(2, '0')} ${entry ? `${entry[0]} (${entry[1]})` : 'UNKNOWN_CODE'}`);
    this.code = (entry?.[0] ?? 'UNKNOWN_CODE') as ConfirmationName;
  }
}

/** The serial line is not usable: the sensor is a fault until it answers properly again. */
export abstract class FingerLinkError extends FingerError {}

export class FingerTimeoutError extends FingerLinkError {
  override readonly name = 'FingerTimeoutError';
  readonly code = 'TIMEOUT';
  constructor(command: string, ms: number) {
    super(`${command}: no answer from the fingerprint sensor within ${ms} ms (unplugged, unpowered, wrong port or baud rate?)`);
  }
}

export class FingerTruncatedError extends FingerLinkError {
  override readonly name = 'FingerTruncatedError';
  readonly code = 'TRUNCATED';
  constructor(command: string, bytes: number) {
    super(`${command}: the sensor's answer stopped after ${bytes} bytes of a packet (loose wire or noise on the line)`);
  }
}

export class FingerChecksumError extends FingerLinkError {
  override readonly name = 'FingerChecksumError';
  readonly code = 'CHECKSUM';
  constructor(command: string, expected: number, got: number) {
    super(`${command}: packet checksum 0x${got.toString(16)} != computed 0x${expected.toString(16)} (noise on the line)`);
  }
}

export class FingerGarbageError extends FingerLinkError {
  override readonly name = 'FingerGarbageError';
  readonly code = 'GARBAGE';
  constructor(command: string, detail: string) {
    super(`${command}: the sensor answered bytes that are not a valid packet (${detail}; wrong baud rate or not a fingerprint module?)`);
  }
}

export class FingerAddressError extends FingerLinkError {
  override readonly name = 'FingerAddressError';
  readonly code = 'WRONG_ADDRESS';
  constructor(command: string, expected: number, got: number) {
    super(`${command}: answer from address 0x${got.toString(16)}, expected 0x${expected.toString(16)} (set finger.address in kiosk.json)`);
  }
}

export class FingerProtocolError extends FingerLinkError {
  override readonly name = 'FingerProtocolError';
  readonly code = 'PROTOCOL';
}

export class FingerPortError extends FingerLinkError {
  override readonly name = 'FingerPortError';
  readonly code = 'PORT';
}

export function isConfirmation(e: unknown, code?: ConfirmationName): e is FingerConfirmationError {
  return e instanceof FingerConfirmationError && (code === undefined || e.code === code);
}

export function isLinkError(e: unknown): e is FingerLinkError {
  return e instanceof FingerLinkError;
}
