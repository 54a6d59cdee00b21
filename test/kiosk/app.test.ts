import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { KioskApp } from '../../kiosk/app.js';
import type { FeedbackEvent } from '../../kiosk/types.js';
import { GENESIS_HASH, punchHash } from '../../protocol/index.js';
import { localTime } from '../../kiosk/dedup.js';
import { HandSource } from './hand-source.js';
import { randomPrefix, sampleRoster, startBroker, startResponder, startRosterServer, testConfig, tmpDir, waitFor } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


async function setup(dedupWindowMin = 5) {
  const broker = await startBroker();
  cleanups.push(() => broker.close());
  const prefix = randomPrefix();
  const dir = tmpDir('app');
  const roster = sampleRoster(6);
  const rosterSrv = await startRosterServer(roster, { user: 'kiosk-test', pass: 'secret' });
  cleanups.push(() => rosterSrv.close());
  const { config, publicKeyPem } = testConfig({ dataDir: dir, mqttUrl: broker.url, prefix, hubUrl: rosterSrv.url, dedupWindowMin });
  const responder = await startResponder(broker.url, prefix, publicKeyPem);
  cleanups.push(() => responder.close());
  const make = (opts: { now?: () => number } = {}) => {
    const app = new KioskApp(config, { extensions: [], ...opts });
    const src = new HandSource();
    app.addSource(src);
    const feedback: FeedbackEvent[] = [];
    app.bus.on('feedback', (f) => feedback.push(f));
    cleanups.push(() => app.stop());
    return { app, src, feedback };
  };
  return { broker, responder, rosterSrv, roster, config, make };
}

describe('kiosk app: identification → journal → feedback → hub ack', () => {
  it('records, says "recorded" only after the commit, dedups, and delivers', async () => {
    const s = await setup();
    const { app, src, feedback } = s.make();
    let journaledBeforeFeedback: boolean | null = null;
    app.bus.on('feedback', (f) => {
      if (f.kind === 'recorded') journaledBeforeFeedback = app.journal.rows().some((r) => r.nip === f.nip);
    });
    await app.start();
    expect(app.roster.current()?.people).toHaveLength(6);
    const nip = s.roster.people[0]!.nip;
    await src.emit({ nip, method: 'face', score: 0.81, liveness: 0.97, photo: Buffer.from('jpeg') });
    expect(journaledBeforeFeedback).toBe(true);
    expect(feedback[0]).toMatchObject({ kind: 'recorded', nip, name: 'Pegawai 1', method: 'face' });
    await src.emit({ nip, method: 'finger', score: 120 });
    expect(feedback[1]).toMatchObject({ kind: 'already', nip, firstAt: (feedback[0] as { at: string }).at });
    expect(app.journal.stats().lastSeq).toBe(1);
    await waitFor(() => app.journal.stats().undelivered === 0, 10_000, 'delivery');
    const stored = [...s.responder.stored.values()];
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ nip, seq: 1, prevHash: GENESIS_HASH, method: 'face', photo: Buffer.from('jpeg').toString('base64') });
    // The screen shows it in Bahasa Indonesia.
    const view = (await (await fetch(`${app.screen!.url}state`)).json()) as { last: { title: string; name: string }; site: string; connected: boolean };
    expect(view.last.title).toBe(`Sudah tercatat pukul ${localTime((feedback[0] as { at: string }).at, 'Asia/Jakarta')}`);
    expect(view.site).toBe('Kantor Bupati');
    expect(view.connected).toBe(true);
  });

  // identify() is synchronous, so identifications arriving together are journaled one after the
  // other; what can go wrong here is order, the chain or delivery. Two writers really at once on one
  // journal file are tested in journal.test.ts (two processes).
  it('300 identifications in one tick are journaled in order: seqs 1..300, one hash chain, all delivered', async () => {
    const s = await setup(0);
    const { app, src } = s.make();
    await app.start();
    await Promise.all(Array.from({ length: 300 }, (_, i) => Promise.resolve().then(() => src.emit({ nip: s.roster.people[i % 6]!.nip, method: 'face', score: 0.7 }))));
    const rows = app.journal.rows();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    let prev = GENESIS_HASH;
    for (const r of rows) {
      expect(r.punch.prevHash).toBe(prev);
      prev = punchHash(r.punch);
    }
    expect(new Set(rows.map((r) => r.id)).size).toBe(300);
    await waitFor(() => app.journal.stats().undelivered === 0, 20_000, 'delivery');
    expect(s.responder.stored.size).toBe(300);
  });

  it('stamps with the injected clock: journaledAt, capturedAt (system clock service), the roster fetch and health', async () => {
    const s = await setup();
    let t = Date.parse('2026-11-24T00:30:00.000Z');
    const { app, src } = s.make({ now: () => t });
    await app.start();
    expect(app.roster.current()?.fetchedAt).toBe('2026-11-24T00:30:00.000Z');
    t += 61_000;
    await src.emit({ nip: s.roster.people[0]!.nip, method: 'face', score: 0.8 });
    const [row] = app.journal.rows();
    expect(row).toMatchObject({ journaledAt: '2026-11-24T00:31:01.000Z', capturedAt: '2026-11-24T00:31:01.000Z' });
    expect(app.baseHealth().at).toBe('2026-11-24T00:31:01.000Z');
  });

  it('fetches a new roster when the retained config announces a version; works from the snapshot when the hub is away; dedup survives restart', async () => {
    const s = await setup();
    let k = s.make();
    await k.app.start();
    const nip = s.roster.people[2]!.nip;
    await k.src.emit({ nip, method: 'face', score: 0.8 });
    // The hub announces v2 on the retained config topic.
    const v2 = sampleRoster(8, 'v2');
    s.rosterSrv.setRoster(v2);
    const updated = new Promise((r) => k.app.bus.once('roster:updated', r));
    const pub = await mqtt.connectAsync(s.broker.url, { protocolVersion: 4 });
    await pub.publishAsync(k.app.link.topics.config(s.config.deviceId), JSON.stringify({ rosterVersion: 'v2' }), { qos: 1, retain: true });
    await pub.endAsync();
    await updated;
    expect(k.app.roster.current()?.version).toBe('v2');
    expect(k.app.roster.byNip(v2.people[7]!.nip)?.name).toBe('Pegawai 8');
    await k.app.stop();
    cleanups.pop();
    // Hub unreachable now: restart works from the lowdb snapshot, and the dedup window still holds.
    await s.rosterSrv.close();
    k = s.make();
    await k.app.start();
    expect(k.app.roster.current()?.version).toBe('v2');
    expect(await k.app.roster.refresh()).toBeNull();
    expect(k.app.health.components().roster?.state).toBe('degraded');
    const r = k.app.identify({ nip, method: 'face', score: 0.8 });
    expect(r.kind).toBe('already');
    expect(k.feedback.at(-1)).toMatchObject({ kind: 'already', nip });
  });

  it('the screen pushes events over SSE', async () => {
    const s = await setup();
    const { app, src } = s.make();
    await app.start();
    const ctrl = new AbortController();
    const res = await fetch(`${app.screen!.url}events`, { signal: ctrl.signal });
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += Buffer.from(value).toString();
      }
    };
    await readUntil('event: view');
    await src.emit({ nip: s.roster.people[1]!.nip, method: 'face', score: 0.8 });
    await readUntil('Tercatat');
    expect(text).toContain('Pegawai 2');
    app.bus.emit('feedback', { kind: 'unknown', reason: 'wajah tidak cocok' });
    await readUntil('Tidak dikenali');
    ctrl.abort();
  });

  it('one kiosk per data dir; a feature that fails to start does not stop the punch path', async () => {
    const s = await setup();
    const a = new KioskApp(s.config, {
      screen: false,
      extensions: [
        () => ({ name: 'camera', start: async () => { throw new Error('no camera attached'); }, stop: async () => {} }),
      ],
    });
    cleanups.push(() => a.stop());
    await a.start();
    expect(a.health.components().camera).toMatchObject({ state: 'fault', detail: 'no camera attached' });
    expect(a.identify({ nip: s.roster.people[0]!.nip, method: 'finger', score: 90 }).kind).toBe('recorded');
    const b = new KioskApp(s.config, { extensions: [], screen: false });
    await expect(b.start()).rejects.toThrow(/another kiosk/);
    await a.stop();
    cleanups.pop();
    const c = new KioskApp(s.config, { extensions: [], screen: false });
    cleanups.push(() => c.stop());
    await c.start(); // the lock is free again
    expect(c.journal.stats().lastSeq).toBe(1);
  });
});
