import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/** Every syscall group systemd knows (`systemd-analyze syscall-filter`), groups may name groups. */
function groups(): Map<string, string[]> {
  const out = spawnSync('systemd-analyze', ['syscall-filter'], { encoding: 'utf8' }).stdout;
  const map = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const line of out.split('\n')) {
    if (/^@\S+/.test(line)) map.set(line.trim(), (cur = []));
    else if (cur && /^\s+[@\w]/.test(line) && !/^\s+#/.test(line)) cur.push(line.trim());
  }
  return map;
}

function expand(items: string[], g: Map<string, string[]>, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  for (const it of items) {
    if (it.startsWith('@')) {
      if (seen.has(it)) continue;
      seen.add(it);
      for (const s of expand(g.get(it) ?? [], g, seen)) out.add(s);
    } else out.add(it);
  }
  return out;
}

/**
 * The seccomp filter a unit file's SystemCallFilter= lines make, as systemd builds it: the first
 * line decides allow-list or deny-list; later `~` lines take calls away from an allow-list;
 * @default (and the calls systemd always permits) stay allowed in allow-list mode.
 * Returns null when the unit has no filter.
 */
export function unitSyscallFilter(unitPath: string): { mode: 'allow' | 'deny'; syscalls: string[] } | null {
  const lines = readFileSync(unitPath, 'utf8').split('\n').filter((l) => /^SystemCallFilter=/.test(l)).map((l) => l.slice('SystemCallFilter='.length).trim());
  if (!lines.length) return null;
  const g = groups();
  const mode = lines[0]!.startsWith('~') ? 'deny' : 'allow';
  let set = new Set<string>(mode === 'allow' ? expand(['@default', 'execve', 'exit', 'exit_group', 'getrlimit', 'rt_sigreturn', 'sigreturn'], g) : []);
  for (const l of lines) {
    const negate = l.startsWith('~');
    const names = expand(l.replace(/^~/, '').split(/\s+/).filter(Boolean), g);
    if (mode === 'allow') set = negate ? new Set([...set].filter((s) => !names.has(s))) : new Set([...set, ...names]);
    else if (negate) set = new Set([...set, ...names]);
  }
  return { mode, syscalls: [...set].sort() };
}

/** argv that runs `cmd` under the unit's filter (test/ops/seccomp-exec.py); writes the list to `listFile`. */
export function underUnitFilter(unitPath: string, listFile: string, cmd: string[]): string[] {
  const f = unitSyscallFilter(unitPath);
  if (!f) return cmd;
  writeFileSync(listFile, f.syscalls.join('\n') + '\n');
  return ['/usr/bin/python3', new URL('./seccomp-exec.py', import.meta.url).pathname, f.mode, listFile, ...cmd];
}

export function haveSeccompPython(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import seccomp'], { stdio: 'ignore' }).status === 0;
}

/**
 * argv prefix that applies a unit's CapabilityBoundingSet= and NoNewPrivileges= as systemd does
 * for a root service (setpriv from util-linux); [] when the unit sets neither.
 */
export function underUnitCapabilities(unitPath: string): string[] {
  const text = readFileSync(unitPath, 'utf8');
  const caps = /^CapabilityBoundingSet=(.*)$/m.exec(text)?.[1]?.trim();
  const nnp = /^NoNewPrivileges=(yes|true|1)$/m.test(text);
  const out: string[] = [];
  if (caps !== undefined) out.push(`--bounding-set=-all${caps.split(/\s+/).filter(Boolean).map((c) => `,+${c.replace(/^CAP_/, '').toLowerCase()}`).join('')}`);
  if (nnp) out.push('--no-new-privs');
  return out.length ? ['setpriv', ...out] : [];
}
