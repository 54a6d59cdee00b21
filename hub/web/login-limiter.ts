/**
 * Failed-login throttle, in memory (one hub process; a restart forgets, which only helps a user
 * locked out by mistake). Per username: 5 failures in 15 minutes lock that name for 15 minutes;
 * per client address: 20 failures in 15 minutes lock the address (password spraying over many
 * names). Hand-written: a dozen lines, and the rate-limit packages count requests, not failures.
 */
export class LoginLimiter {
  private readonly byUser = new Map<string, number[]>();
  private readonly byIp = new Map<string, number[]>();
  constructor(private readonly o: { windowMs: number; perUser: number; perIp: number } = { windowMs: 15 * 60_000, perUser: 5, perIp: 20 }) {}

  /** Milliseconds until this username/address may try again (0 = now). */
  blockedFor(username: string, ip: string, t: number): number {
    return Math.max(this.wait(this.byUser, username.toLowerCase(), this.o.perUser, t), this.wait(this.byIp, ip, this.o.perIp, t));
  }
  fail(username: string, ip: string, t: number): void {
    this.push(this.byUser, username.toLowerCase(), t);
    this.push(this.byIp, ip, t);
  }
  /**
   * Starts an attempt: counts it as a failure BEFORE the password is checked, so attempts sent at
   * once cannot all pass the limit while their (slow) hashes run. Returns ms to wait (refused,
   * nothing counted) or 0. Call succeed() with the same arguments when the password was right.
   */
  attempt(username: string, ip: string, t: number): number {
    const wait = this.blockedFor(username, ip, t);
    if (wait === 0) this.fail(username, ip, t);
    return wait;
  }
  /** A good password (web login): the name's failures are cleared and this attempt's provisional failure withdrawn from the address. */
  succeed(username: string, ip?: string, t?: number): void {
    this.byUser.delete(username.toLowerCase());
    if (ip !== undefined && t !== undefined) this.drop(this.byIp, ip, t);
  }
  /**
   * A good password where the name's other failures must stay counted (devices: a kiosk logging in
   * every minute must not reset the count of someone guessing its secret): only this attempt's
   * provisional failure is withdrawn.
   */
  withdraw(username: string, ip: string, t: number): void {
    this.drop(this.byUser, username.toLowerCase(), t);
    this.drop(this.byIp, ip, t);
  }
  private drop(m: Map<string, number[]>, key: string, t: number): void {
    const xs = m.get(key);
    const i = xs?.lastIndexOf(t) ?? -1;
    if (xs && i >= 0) xs.splice(i, 1);
  }

  private wait(m: Map<string, number[]>, key: string, max: number, t: number): number {
    const xs = (m.get(key) ?? []).filter((x) => t - x < this.o.windowMs);
    if (xs.length) m.set(key, xs);
    else m.delete(key);
    return xs.length >= max ? xs[xs.length - max]! + this.o.windowMs - t : 0;
  }
  private push(m: Map<string, number[]>, key: string, t: number): void {
    if (m.size > 50_000) m.clear(); // bounded memory under a flood of random names
    const xs = m.get(key) ?? [];
    xs.push(t);
    m.set(key, xs.slice(-100));
  }
}
