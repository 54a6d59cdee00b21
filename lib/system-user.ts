import { execFileSync } from 'node:child_process';

/** uid and gid of a system account (through NSS, as `getent passwd` sees it); null when there is none. */
export function systemUser(name: string): { uid: number; gid: number } | null {
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null; // exit 2: no such user
  }
  const [, , uid, gid] = line.trim().split(':');
  return uid && gid ? { uid: Number(uid), gid: Number(gid) } : null;
}
