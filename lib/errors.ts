/**
 * One error style for the whole product: a UserError is something the operator can fix.
 * The CLI prints it as ONE line (`hadir: <problem> — <fix>`) and exits non-zero;
 * the hub turns it into an HTTP 4xx with the same text.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    /** What is wrong, e.g. "config file /etc/hadir/kiosk.json: deviceId is missing". */
    readonly problem: string,
    /** What to do about it, e.g. "add \"deviceId\" or re-run provisioning". */
    readonly fix?: string,
    /** Exit code for the CLI / HTTP status for the hub. */
    readonly status = 2,
  ) {
    super(fix ? `${problem} — ${fix}` : problem);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** Node's errno errors (ENOENT, EADDRINUSE, …) without string-matching messages. */
export function isErrno(e: unknown, code: string): e is NodeJS.ErrnoException {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code;
}
