import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';
import { formatOption } from './format.js';
import { hubDataOptions, withHub, type HubFlags as StoreFlags } from './open-hub.js';

/**
 * `hadir audit list|export|verify`, and the audit entry every changing CLI command leaves
 * (imports, rules, schedules, holidays, leave, reviews, staff, devices, users, enrolment): the
 * CLI changes the hub's data directly, so it records itself, as the hub's API does for its routes.
 */

/** Command paths (without `hadir`) that change the hub's data. Read-only commands are not recorded. */
export const CHANGING_COMMANDS = new Set([
  'device add', 'device disable', 'device enable', 'device recover', 'device ack',
  'user add', 'user passwd',
  'import org', 'import staff', 'import punches', 'import kinerja', 'import holidays', 'import roster',
  'rules add', 'leave add', 'leave approve', 'leave reject', 'holidays remove', 'schedules add', 'event add',
  'staff transfer', 'staff end', 'staff reinstate', 'review accept', 'review reject',
  'attendance config', 'attendance recompute', 'enroll face', 'staff codes',
]);

const SECRET_OPTS = /pass|token|secret|key/i;

/** The audit log through the one store factory: on SQLite or PostgreSQL (its repository exists on both). */
async function withAudit<T>(f: StoreFlags, fn: (log: import('../hub/audit/index.js').AuditLog) => Promise<T>): Promise<T> {
  const { AuditLog } = await import('../hub/audit/index.js');
  return withHub(f, ({ stores, clock }) => fn(new AuditLog(stores.audit, clock)), { postgres: true });
}

function commandPath(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x && x.parent; x = x.parent) names.unshift(x.name());
  return names.join(' ');
}

/** A file named on the command line, as the log keeps it: name, size and sha256 (the content stays where it is). */
function fileFact(arg: string): { file: string; bytes: number; sha256: string } | null {
  try {
    if (!existsSync(arg) || !statSync(arg).isFile()) return null;
    const buf = readFileSync(arg);
    return { file: arg, bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
  } catch {
    return null;
  }
}

/** After a changing command succeeded: one audit entry with who (OS user@host), the command, its arguments and files. */
export function installCliAudit(program: Command): void {
  program.hook('postAction', async (_root, action) => {
    const path = commandPath(action);
    if (!CHANGING_COMMANDS.has(path)) return;
    const opts = action.opts() as Record<string, unknown> & StoreFlags & { opd?: string; by?: string; site?: string };
    const options = Object.fromEntries(Object.entries(opts).map(([k, v]) => [k, SECRET_OPTS.test(k) && typeof v === 'string' ? '[redacted]' : v]));
    const args = action.args.map((a) => fileFact(a) ?? a);
    let os = 'unknown';
    try {
      os = userInfo().username;
    } catch {
      /* no passwd entry (container): keep 'unknown' */
    }
    await withAudit(opts, (audit) =>
      audit.record({
        actor: typeof opts.by === 'string' && opts.by ? `${opts.by} (${os})` : os,
        actorKind: 'cli',
        role: 'cli',
        source: hostname(),
        action: `cli ${path}`,
        target: args.length ? (typeof args[0] === 'string' ? String(args[0]) : `file:${(args[0] as { file: string }).file}`) : null,
        opdCode: typeof opts.opd === 'string' ? opts.opd : null,
        after: { args, options },
        status: 0,
      }),
    );
  });
}

export function registerAuditCommands(g: Groups): void {
  const audit = g.program.command('audit').description('Log audit / audit log: list, export, verify the hash chain');
  const store = hubDataOptions;

  store(
    audit
      .command('list')
      .description('Entri terbaru / newest entries first')
      .option('--from <iso>', 'from (inclusive), ISO date or date-time')
      .option('--to <iso>', 'to (exclusive)')
      .option('--actor <name>', 'who')
      .option('--action <prefix>', 'action prefix, e.g. device. or finger.template')
      .option('--opd <code>', 'entries concerning this OPD')
      .option('--limit <n>', 'at most n entries', '50')
      .addOption(formatOption(['table', 'json'])),
  ).action(async (o: StoreFlags & { from?: string; to?: string; actor?: string; action?: string; opd?: string; limit: string; format: string }) => {
    const limit = Number(o.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UserError(`--limit ${o.limit} is not a positive integer`, 'e.g. --limit 100');
    await withAudit(o, async (log) => {
      const { items, total } = await log.list({ from: o.from, to: o.to, actor: o.actor, action: o.action, opdCode: o.opd, limit });
      if (o.format === 'json') return void process.stdout.write(JSON.stringify(items.map((e) => ({ ...e, before: e.before && JSON.parse(e.before), after: e.after && JSON.parse(e.after) }))) + '\n');
      const lines = items.map((e) => `${String(e.id).padStart(6)}  ${e.at}  ${e.actor} (${e.role ?? e.actorKind})${e.source ? ` @${e.source}` : ''}  ${e.action}${e.target ? `  ${e.target}` : ''}${e.opdCode ? `  [${e.opdCode}]` : ''}`);
      process.stdout.write(`${lines.join('\n')}${lines.length ? '\n' : ''}${items.length} dari / of ${total} entri / entries\n`);
    });
  });

  store(
    audit
      .command('export')
      .description('Ekspor seluruh log dengan hash / export the whole log with its hash chain')
      .addOption(formatOption(['jsonl', 'csv']))
      .option('--out <file>', 'write to FILE (default: stdout)'),
  ).action(async (o: StoreFlags & { format: string; out?: string }) => {
    const format = o.format as 'jsonl' | 'csv';
    const { auditExportHead, auditExportLine } = await import('../hub/audit/http.js');
    const out = auditExportHead(format);
    let n = 0;
    await withAudit(o, async (log) => {
      for await (const e of log.repo.scan()) {
        n++;
        out.push(auditExportLine(e, format));
      }
    });
    if (!o.out) return void process.stdout.write(out.join(''));
    const { writeFileAtomic } = await import('../lib/write-atomic.js');
    writeFileAtomic(o.out, out.join(''), 0o600);
    process.stderr.write(`${n} entri / entries → ${o.out}\n`);
  });

  store(
    audit
      .command('verify')
      .description('Periksa rantai hash / check the hash chain: names every altered or deleted entry')
      .addOption(formatOption(['text', 'json'])),
  ).action(async (o: StoreFlags & { format: string }) => {
    const r = await withAudit(o, (log) => log.verify());
    if (o.format === 'json') process.stdout.write(JSON.stringify(r) + '\n');
    else if (r.ok) process.stdout.write(`OK: ${r.entries} entri utuh / entries intact, head ${r.head}\n`);
    else process.stdout.write(`RUSAK / TAMPERED: ${r.problems.length} masalah / problems in ${r.entries} entries\n${r.problems.map((p) => `  ${p.detail}`).join('\n')}\n`);
    if (!r.ok) {
      process.stderr.write(`hadir: audit log tampered: ${r.problems.map((p) => p.detail).join('; ')} — restore the database from a backup and compare it with the last export\n`);
      process.exitCode = 3;
    }
  });
}
