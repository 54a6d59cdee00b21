import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rootLogger } from '../../lib/logger.js';
import { generateDeviceKeys, type ComponentState, type Roster } from '../../protocol/index.js';
import type { KioskBus, KioskContext, KioskEvents, KioskLink } from '../../kiosk/extension-api.js';
import type { FeedbackEvent, HealthReporter, Identification, IdentificationSource } from '../../kiosk/types.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import { HubClient } from '../../kiosk/hub-client.js';
import { SystemClock } from '../../kiosk/core-clock.js';
import { fingerConfigSchema } from '../../kiosk/finger/config.js';
import { FingerExtension } from '../../kiosk/finger/extension.js';
import { fingerSeed, syntheticTemplate } from '../../finger/synthetic.js';
import { SimulatedSensor, sendControl, controlSocketPath, simulatedEnrolTouch } from '../../kiosk/finger/simulator.js';
import { SensorEmulator } from '../../kiosk/finger/emulator.js';
import { FingerSource } from '../../kiosk/finger/source.js';
import { openEmulatedMockPort } from '../../kiosk/finger/transport.js';

const NIP_A = '198001012005011001';
const NIP_B = '198502022010012002';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Resolves with fn's value once it is truthy (vitest polls it), fails after `timeout` ms. */
function until<T>(fn: () => T | undefined | null | false, timeout = 5000): Promise<T> {
  return vi.waitFor(() => {
    const v = fn();
    if (!v) throw new Error('condition not reached in time');
    return v;
  }, { timeout, interval: 20 });
}

/** The emulator's counters after the source has polled the glass `n` more times (finger present: captures; empty: emptyPolls). */
function polled(emu: SensorEmulator, what: 'captures' | 'emptyPolls', n: number): Promise<number> {
  const from = emu.stats[what];
  return until(() => emu.stats[what] >= from + n && emu.stats[what]);
}

/** A hand-built KioskContext: real bus, roster view over a fixed roster, health registry, sources started like the core does. */
async function kiosk(opts: { hubUrl?: string; capacity?: number; simulate?: boolean; finger?: Record<string, unknown>; expect?: ComponentState['state'] } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'hadir-finger-ext-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const bus = new EventEmitter<KioskEvents>() as KioskBus;
  const reporters = new Map<string, HealthReporter>();
  const identified: Identification[] = [];
  const feedback: FeedbackEvent[] = [];
  bus.on('feedback', (e) => feedback.push(e));
  let roster: Roster = {
    version: 'v1',
    site: { code: 'S1', name: 'Site' },
    fetchedAt: new Date().toISOString(),
    people: [
      { nip: NIP_A, name: 'Ani', finger: [{ finger: 1, template: syntheticTemplate(fingerSeed(NIP_A, 1)).toString('base64'), updatedAt: 'x' }] },
      { nip: NIP_B, name: 'Budi' },
    ],
  };
  const sources: IdentificationSource[] = [];
  const config = kioskConfigSchema.parse({
    deviceId: 'k-test',
    siteCode: 'S1',
    hubUrl: opts.hubUrl ?? 'http://127.0.0.1:9',
    dataDir,
    mqtt: { url: 'mqtt://127.0.0.1:9', username: 'k-test', password: 'secret', prefix: 'test' },
    privateKeyPem: generateDeviceKeys().privateKeyPem,
    face: { enabled: false },
    finger: { pollMs: 20, timeoutMs: 200, backoffMs: 50, maxBackoffMs: 200, enrolTimeoutS: 5, simulator: { capacity: opts.capacity ?? 200 }, ...opts.finger },
  });
  const link: KioskLink = { connected: false, publish: async () => {}, subscribe: () => {} };
  const ctx: KioskContext = {
    deviceId: config.deviceId,
    dataDir,
    config,
    simulate: opts.simulate ?? true,
    log: rootLogger,
    bus,
    link,
    hub: HubClient.forConfig(config),
    now: Date.now,
    roster: { current: () => roster, byNip: (n: string) => roster.people.find((p) => p.nip === n), refresh: async () => roster },
    clock: new SystemClock(),
    health: { register: (r: HealthReporter) => reporters.set(r.component, r), components: () => Object.fromEntries([...reporters].map(([k, r]) => [k, r.state()])) },
    journalStats: () => ({ undelivered: 0, oldestUndeliveredAt: null, lastSeq: 0, rejected: 0 }),
    addSource: (s: IdentificationSource) => {
      sources.push(s);
      reporters.set(s.component, s);
    },
    addFeedback: () => {},
    setClock: () => {},
    baseHealth: () => {
      throw new Error('the finger feature does not publish health');
    },
  };
  const ext = new FingerExtension(ctx);
  await ext.start();
  cleanups.push(() => ext.stop());
  for (const s of sources) await s.start((i) => void identified.push(i));
  const health = () => reporters.get('finger')!.state() as ComponentState;
  await until(() => health().state === (opts.expect ?? 'ok'));
  return {
    ext,
    ctx,
    bus,
    identified,
    feedback,
    health,
    sim: ext.simulator as NonNullable<typeof ext.simulator>,
    setRoster(r: Partial<Roster>) {
      roster = { ...roster, ...r };
      bus.emit('roster:updated', { version: roster.version });
    },
  };
}

describe('FingerExtension in simulate mode (emulator on a socat pty, real serialport stack)', () => {
  it('loads the roster templates and turns a finger on the glass into {nip, method: finger, score}', async () => {
    const k = await kiosk();
    expect(k.sim.emulator.library.size).toBe(1);
    expect(k.health().detail).toContain('1/200');
    k.sim.control({ op: 'place', nip: NIP_A, finger: 1 });
    const id = await until(() => k.identified[0]);
    expect(id).toMatchObject({ nip: NIP_A, method: 'finger' });
    expect(id.score).toBeGreaterThan(100);
    // Finger still on the glass → captured again and again, but no second identification until it is lifted.
    await polled(k.sim.emulator, 'captures', 5);
    expect(k.identified).toHaveLength(1);
    k.sim.control({ op: 'lift' });
    await polled(k.sim.emulator, 'emptyPolls', 1); // the source has seen the empty glass
    k.sim.control({ op: 'place', nip: NIP_A, finger: 1 });
    await until(() => k.identified.length === 2);

    // An enrolled-elsewhere finger nobody here has → "not recognised" feedback, no identification.
    k.sim.control({ op: 'lift' });
    await polled(k.sim.emulator, 'emptyPolls', 1);
    k.sim.control({ op: 'place', nip: NIP_B, finger: 1 });
    await until(() => k.feedback.find((f) => f.kind === 'unknown'));
    expect(k.identified).toHaveLength(2);
  });

  it('a capture the module refuses (IMAGE_FAIL) is degraded, not a fault, and clears at the next good scan', async () => {
    const k = await kiosk();
    k.sim.emulator.place(fingerSeed(NIP_A, 1), 'fail');
    await until(() => k.health().state === 'degraded');
    expect(k.health().detail).toContain('IMAGE_FAIL');
    k.sim.control({ op: 'lift' });
    await until(() => k.health().state === 'ok');
    k.sim.control({ op: 'place', nip: NIP_A, finger: 1 });
    await until(() => k.identified[0]);
  });

  it('roster update is synced incrementally; a swapped sensor is fully reloaded after reconnect', async () => {
    const k = await kiosk();
    const people = [
      ...k.ctx.roster.current()!.people.slice(0, 1),
      { nip: NIP_B, name: 'Budi', finger: [{ finger: 2, template: syntheticTemplate(fingerSeed(NIP_B, 2)).toString('base64'), updatedAt: 'y' }] },
    ];
    const synced = k.ext.source!.nextSync();
    k.setRoster({ version: 'v2', people });
    expect(await synced).toMatchObject({ loaded: 1, kept: 1, deleted: 0 });
    k.sim.control({ op: 'place', nip: NIP_B, finger: 2 });
    expect(await until(() => k.identified[0])).toMatchObject({ nip: NIP_B });

    // Swap the sensor while it is unplugged (a silent line → fault), then plug the new one in.
    k.sim.control({ op: 'lift' });
    k.sim.control({ op: 'fault', kind: 'silence' });
    await until(() => k.health().state === 'fault');
    const reloaded = k.ext.source!.nextSync();
    k.sim.control({ op: 'swap' });
    k.sim.control({ op: 'clear' });
    expect(await reloaded).toMatchObject({ reset: true, loaded: 2 });
    expect(k.sim.emulator.library.size).toBe(2);
    expect(k.health().state).toBe('ok');
  });

  it('overflow beyond capacity is reported as degraded in health', async () => {
    const k = await kiosk({ capacity: 1 });
    const synced = k.ext.source!.nextSync();
    k.setRoster({
      version: 'v3',
      people: [NIP_A, NIP_B].map((nip) => ({ nip, name: nip, finger: [{ finger: 1, template: syntheticTemplate(fingerSeed(nip, 1)).toString('base64'), updatedAt: 'z' }] })),
    });
    expect(await synced).toMatchObject({ overflow: 1 });
    expect(k.health()).toMatchObject({ state: 'degraded', detail: expect.stringContaining('1 templat tidak dimuat') });
  });

  for (const kind of ['checksum', 'truncate', 'silence', 'wrong-address', 'garbage'] as const) {
    it(`fault "${kind}" shows as a fault in health with its named code, then recovers`, async () => {
      const k = await kiosk();
      await sendControl(controlSocketPath(k.ctx.dataDir), { op: 'fault', kind });
      const code = { checksum: 'CHECKSUM', truncate: 'TRUNCATED', silence: 'TIMEOUT', 'wrong-address': 'WRONG_ADDRESS', garbage: 'GARBAGE' }[kind];
      const h = await until(() => (k.health().state === 'fault' ? k.health() : null));
      expect(h.detail).toMatch(new RegExp(`^${code}:`));
      expect(k.feedback).toContainEqual(expect.objectContaining({ kind: 'fault', component: 'finger' }));
      await sendControl(controlSocketPath(k.ctx.dataDir), { op: 'clear' });
      await until(() => k.health().state === 'ok');
      k.sim.control({ op: 'place', nip: NIP_A, finger: 1 });
      await until(() => k.identified[0]);
    });
  }

  it('enrolment: two captures → RegModel → UpChar → uploaded to the hub → enrol:result ok', async () => {
    const uploads: unknown[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const b = JSON.parse(body) as { nip: string; finger: number; template: string };
        uploads.push({ url: req.url, auth: req.headers.authorization, body: b });
        // what the hub answers (protocol/kiosk-api.ts fingerUploadReplySchema)
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ nip: b.nip, finger: b.finger, sha256: 'ab'.repeat(32), bytes: Buffer.from(b.template, 'base64').length }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const k = await kiosk({ hubUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const result = new Promise<KioskEvents['enrol:result'][0]>((r) => k.bus.once('enrol:result', r));
    k.bus.emit('enrol:request', { requestId: 'r1', nip: NIP_B, method: 'finger', finger: 3 });
    await simulatedEnrolTouch(k.sim, NIP_B, 3);
    expect(await result).toMatchObject({ requestId: 'r1', ok: true });
    expect(uploads).toHaveLength(1);
    const u = uploads[0] as { url: string; auth: string; body: { nip: string; finger: number; template: string } };
    expect(u.url).toBe('/api/v1/kiosk/finger/templates');
    expect(u.auth).toBe(`Basic ${Buffer.from('k-test:secret').toString('base64')}`);
    expect(u.body).toMatchObject({ nip: NIP_B, finger: 3 });
    expect(Buffer.from(u.body.template, 'base64')).toHaveLength(512);
    expect(k.identified).toHaveLength(0); // the enrolling finger is not a punch
  });

  it('enrolment refuses a finger already enrolled here for another NIP (one finger, one person)', async () => {
    const k = await kiosk();
    const result = new Promise<KioskEvents['enrol:result'][0]>((r) => k.bus.once('enrol:result', r));
    k.bus.emit('enrol:request', { requestId: 'r3', nip: NIP_B, method: 'finger', finger: 1 });
    await simulatedEnrolTouch(k.sim, NIP_A, 1);
    expect(await result).toMatchObject({ ok: false, detail: expect.stringContaining(`NIP ${NIP_A}`) });
    await polled(k.sim.emulator, 'captures', 5);
    expect(k.identified).toHaveLength(0); // the finger left on the glass after enrolment is not a punch
  });

  it('enrolment with two different fingers fails with ENROLL_MISMATCH and nothing is uploaded', async () => {
    const k = await kiosk();
    const result = new Promise<KioskEvents['enrol:result'][0]>((r) => k.bus.once('enrol:result', r));
    k.bus.emit('enrol:request', { requestId: 'r2', nip: NIP_B, method: 'finger', finger: 1 });
    await simulatedEnrolTouch(k.sim, NIP_B, 1, { nip: NIP_B, finger: 2 });
    expect(await result).toMatchObject({ ok: false, detail: expect.stringContaining('ENROLL_MISMATCH') });
  });

  it('an unplugged sensor (no such serial device) is a PORT fault in health, retried, never a hang', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hadir-finger-port-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = join(dir, 'ttyHADIR0');
    const k = await kiosk({ simulate: false, finger: { port }, expect: 'fault' });
    expect(k.health().detail).toMatch(new RegExp(`^PORT: cannot open ${port}`));
    expect(k.feedback.filter((f) => f.kind === 'fault')).toHaveLength(1);
    // Plug a sensor in: the source, still retrying, finds it — and the fault was reported once, not per retry.
    const sensor = await SimulatedSensor.start({ baudRate: 57600, capacity: 200 });
    cleanups.push(() => sensor.close());
    symlinkSync(sensor.path, port);
    await until(() => k.health().state === 'ok');
    expect(k.feedback.filter((f) => f.kind === 'fault')).toHaveLength(1);
  });

  it('a library emptied behind our back (no fault, no reconnect) is noticed at the periodic verify and reloaded', async () => {
    const k = await kiosk({ finger: { verifyIntervalS: 1 } });
    expect(k.sim.emulator.library.size).toBe(1);
    const resynced = k.ext.source!.nextSync();
    k.sim.emulator.library.clear();
    expect(await resynced).toMatchObject({ reset: true, loaded: 1 });
    expect(k.sim.emulator.library.size).toBe(1);
  });

  it('a module with another password is a WRONG_PASSWORD fault (reported once), not a busy loop', async () => {
    const emu = new SensorEmulator({ password: 0x1234 });
    const bus = new EventEmitter<KioskEvents>() as KioskBus;
    const faults: FeedbackEvent[] = [];
    bus.on('feedback', (e) => faults.push(e));
    const dataDir = mkdtempSync(join(tmpdir(), 'hadir-finger-pw-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const source = new FingerSource({
      config: fingerConfigSchema.parse({ password: 42, backoffMs: 50, maxBackoffMs: 100, timeoutMs: 200 }),
      open: () => openEmulatedMockPort(emu),
      roster: { current: () => null, byNip: () => undefined, refresh: async () => null },
      bus,
      log: rootLogger,
      dataDir,
      upload: async () => {},
    });
    // The first refusal: the command count and the time at that moment.
    const first = new Promise<{ commands: number; at: number }>((r) => bus.once('feedback', () => r({ commands: emu.stats.commands, at: performance.now() })));
    await source.start(() => {});
    cleanups.push(() => source.stop());
    const f = await first;
    expect(source.state().detail).toMatch(/^WRONG_PASSWORD: VfyPwd/);
    // Three more attempts (one VfyPwd each) come after back-offs of 50, 100 and 100 ms — a tight loop would make them at once.
    await until(() => emu.stats.commands >= f.commands + 3);
    expect(performance.now() - f.at).toBeGreaterThanOrEqual(240);
    expect(faults).toHaveLength(1);
  });
});
