import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used, from /proc (Linux; 0 when it is gone or elsewhere). */
export function cpuSecondsOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return 0;
  }
}
