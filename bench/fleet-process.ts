import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Fleet, type FleetSpec, type FleetStats, type PlannedPunch } from './fleet.js';

/**
 * A Fleet (fleet.ts) in a child process, driven over IPC, so the process being measured (the hub)
 * carries none of the simulated kiosks' memory or CPU on its event loop.
 */
type Request =
  | { cmd: 'backlog'; n: number }
  /** Given punches journaled per kiosk (plan[i] for kiosk i), before start. */
  | { cmd: 'plan'; plan: PlannedPunch[][] }
  | { cmd: 'start'; spreadMs?: number }
  /** Live punches at `perS` per second on random kiosks for `seconds` (the morning peak). */
  | { cmd: 'punch'; perS: number; seconds: number }
  | { cmd: 'stats' }
  | { cmd: 'resetLatencies' }
  | { cmd: 'undelivered' }
  | { cmd: 'stop' };

export interface FleetProcess {
  request(r: { cmd: 'stats' }): Promise<FleetStats>;
  request(r: { cmd: 'undelivered' }): Promise<number>;
  request(r: Request): Promise<unknown>;
  /** Resolves when every journaled punch is acked; rejects after `timeoutMs`. */
  drained(timeoutMs: number): Promise<FleetStats>;
  stop(): Promise<void>;
  readonly pid: number;
}

export async function spawnFleet(spec: FleetSpec): Promise<FleetProcess> {
  mkdirSync(spec.dir, { recursive: true });
  const specFile = join(spec.dir, 'fleet-spec.json');
  writeFileSync(specFile, JSON.stringify(spec), { mode: 0o600 });
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [specFile], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let seq = 0;
  const waiting = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.res(m.value);
    else w?.rej(new Error(m.error));
  });
  child.once('exit', (code) => {
    for (const w of waiting.values()) w.rej(new Error(`fleet process exited (${code})`));
    waiting.clear();
  });
  const request = (r: Request) =>
    new Promise<unknown>((res, rej) => {
      const id = ++seq;
      waiting.set(id, { res, rej });
      child.send({ id, ...r });
    });
  await request({ cmd: 'stats' }); // ready: journals opened
  const p: FleetProcess = {
    pid: child.pid!,
    request: request as FleetProcess['request'],
    async drained(timeoutMs) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const s = (await request({ cmd: 'stats' })) as FleetStats;
        if (s.drainS !== null) return s;
        if (Date.now() > until) throw new Error(`fleet not drained after ${timeoutMs / 1000} s: ${s.acked}/${s.journaled} acked, ${s.connected}/${s.kiosks} connected; down: ${s.down.join('; ')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await request({ cmd: 'stop' }).catch(() => {});
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await exited;
    },
  };
  return p;
}

/** The child side. */
async function main(specFile: string): Promise<void> {
  const fleet = new Fleet(JSON.parse(readFileSync(specFile, 'utf8')) as FleetSpec);
  const n = fleet.stats().kiosks;
  process.on('message', async (m: Request & { id: number }) => {
    const reply = (value?: unknown) => process.send!({ id: m.id, ok: true, value });
    try {
      switch (m.cmd) {
        case 'backlog':
          return reply(fleet.journalBacklog(m.n));
        case 'plan':
          return reply(fleet.journalPlanned(m.plan));
        case 'start':
          return reply(fleet.start(m.spreadMs));
        case 'punch': {
          // evenly paced; each punch at a random kiosk
          const total = Math.round(m.perS * m.seconds);
          const t0 = performance.now();
          for (let i = 0; i < total; i++) {
            const due = t0 + (i * 1000) / m.perS;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            fleet.punch(Math.floor(Math.random() * n));
          }
          return reply(total);
        }
        case 'stats':
          return reply(fleet.stats());
        case 'resetLatencies':
          return reply(fleet.resetLatencies());
        case 'undelivered':
          return reply(fleet.undelivered());
        case 'stop':
          await fleet.stop();
          reply();
          return process.disconnect();
      }
    } catch (e) {
      process.send!({ id: m.id, ok: false, error: (e as Error).message });
    }
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.send) void main(process.argv[2]!);
