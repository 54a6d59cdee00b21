import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topics, MAX_PUNCH_BYTES } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { TestKiosk, enrolTestDevice, metricValue, privateMosquitto, randomPrefix, seedOrgSql, tmpDir, waitFor, type TestDevice } from './helpers.js';
import { TEST_DB, sqlOf, testHubStore } from '../store.js';

/**
 * The same end-to-end ingest checks against the embedded aedes broker and a real Mosquitto that the
 * suite starts on a free port (anonymous, like a broker without the ACL; own random topic prefix). Real hub, real SQLite file, real MQTT clients
 * signing with real Ed25519 keys.
 */
export function ingestSuite(kind: 'aedes' | 'mosquitto'): void {
  describe(`ingest end to end (${kind}, ${TEST_DB})`, () => {
    let hub: RunningHub;
    let topics: Topics;
    let dev: TestDevice;
    let other: TestDevice;
    let k: TestKiosk;
    const prefix = kind === 'mosquitto' ? randomPrefix() : 'hadir/v1';
    const dir = tmpDir(kind);
    let mosq: Awaited<ReturnType<typeof privateMosquitto>> | null = null;
    let brokerUrl = '';
    let dropDb = async () => {};

    beforeAll(async () => {
      if (kind === 'mosquitto') {
        mosq = await privateMosquitto(dir, 'allow_anonymous true');
        brokerUrl = mosq.url;
      }
      const db = await testHubStore();
      dropDb = db.drop;
      hub = await startHub({
        ...db.opts,
        dataDir: dir, httpPort: 0, mqttPort: 0, prefix, batchDelayMs: 2, defaultMetrics: false,
        ...(kind === 'mosquitto' ? { mqttUrl: brokerUrl, mqttPersistent: false } : {}),
        env: {},
      });
      topics = hub.ctx.topics;
      await seedOrgSql(sqlOf(hub));
      // Registered AFTER the hub started: it must see them without a restart.
      dev = await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-pkm-01', prefix);
      other = await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-pkm-02', prefix);
      k = await TestKiosk.connect(hub.mqttUrl.replace('localhost', '127.0.0.1'), topics, dev.id, kind === 'aedes' ? dev.password : undefined);
    });
    afterAll(async () => {
      await k?.close();
      await hub?.close();
      await mosq?.stop();
      await dropDb();
      rmSync(dir, { recursive: true, force: true });
    });

    const metrics = async () => (await hub.app.request('/metrics')).text();

    it('stores a signed punch and only then acks it', async () => {
      const p = dev.next();
      await k.publish(p);
      const ack = await waitFor(() => k.acks.find((a) => a.ids.includes(p.id)), 10_000, 'ack');
      expect(ack.contiguousSeq).toBe(1);
      const rows = await hub.store.queryPunches({ deviceId: dev.id });
      expect(rows.map((r) => r.id)).toEqual([p.id]);
      expect(rows[0]!.siteCode).toBe('PKM-01-A');
    });

    it('is idempotent: the same punch 3× is stored once and acked each time', async () => {
      const p = dev.next();
      const before = k.acks.length;
      for (let i = 0; i < 3; i++) await k.publish(p);
      await waitFor(() => k.acks.slice(before).flatMap((a) => a.ids).filter((id) => id === p.id).length >= 3, 10_000, '3 acks');
      expect(await hub.store.countPunches({ deviceId: dev.id })).toBe(2);
      expect((await hub.store.getDevice(dev.id))!.contiguousSeq).toBe(2);
    });

    it('rejects every kind of bad input, counts it, and keeps ingesting', async () => {
      const good = dev.next();
      const forgedSig = { ...dev.next(), nip: '199001012015032001' }; // content changed after signing
      dev.seq--; // forgedSig's seq was never stored; reuse it
      const replay = { ...good, match: { score: 0.1 } }; // same id, different content, invalid sig → bad_signature
      await k.publish('{not json');
      await k.publish(JSON.stringify({ id: 'x', hello: 1 }));
      await k.publish(Buffer.alloc(MAX_PUNCH_BYTES + 10, 0x20));
      await k.publish(forgedSig);
      await k.publish(good);
      await k.publish(replay);
      await waitFor(() => k.ackedIds().has(good.id), 10_000, 'ack of the good punch');
      // the replay was published after the good punch: wait until the hub has seen it too
      await waitFor(async () => metricValue(await metrics(), 'hadir_ingest_rejections_total', 'code="bad_signature"') >= 2, 10_000, 'both bad signatures');
      const m = await metrics();
      expect(metricValue(m, 'hadir_ingest_rejections_total', 'code="malformed_json"')).toBeGreaterThanOrEqual(1);
      expect(metricValue(m, 'hadir_ingest_rejections_total', 'code="schema"')).toBeGreaterThanOrEqual(1);
      expect(metricValue(m, 'hadir_ingest_rejections_total', 'code="bad_signature"')).toBeGreaterThanOrEqual(2);
      if (kind === 'mosquitto') expect(metricValue(m, 'hadir_ingest_rejections_total', 'code="oversized"')).toBeGreaterThanOrEqual(1);
      const rej = await waitFor(() => k.rejectedIds().get(forgedSig.id), 5000, 'rejected list');
      expect(rej).toMatch(/bad_signature/);
      const codes = (await sqlOf(hub).all<{ code: string }>('SELECT code FROM rejections')).map((r) => r.code);
      expect(codes).toEqual(expect.arrayContaining(['malformed_json', 'schema', 'bad_signature']));
      // the hub still takes the next valid punch
      const after = dev.next();
      await k.publish(after);
      await waitFor(() => k.ackedIds().has(after.id), 10_000, 'ack after bad input');
      expect((await hub.store.getDevice(dev.id))!.contiguousSeq).toBe(dev.seq);
    });

    it('rejects a replay of a stored id with different content', async () => {
      // a correctly signed punch whose id was already stored with other content (a forgery/bug on the kiosk)
      const first = dev.next();
      await k.publish(first);
      await waitFor(() => k.ackedIds().has(first.id), 10_000, 'ack');
      const forged = dev.next({ id: first.id });
      await k.publish(forged);
      await waitFor(() => k.rejectedIds().get(first.id), 10_000, 'replay_conflict');
      expect(k.rejectedIds().get(first.id)).toMatch(/replay_conflict/);
      dev.seq--; // that seq was not stored
      const m = await metrics();
      expect(metricValue(m, 'hadir_ingest_rejections_total', 'code="replay_conflict"')).toBe(1);
    });

    it('records seq gaps and closes them when the punch arrives', async () => {
      const a = dev.next();
      const b = dev.next();
      const c = dev.next();
      await k.publish(a);
      await k.publish(c); // b is missing
      await waitFor(() => k.ackedIds().has(c.id), 10_000, 'ack c');
      await hub.ingestor.drain();
      let gaps = await hub.store.seqGaps(dev.id, true);
      expect(gaps.map((g) => [g.fromSeq, g.toSeq])).toEqual([[b.seq, b.seq]]);
      expect(k.acks.at(-1)!.contiguousSeq).toBe(a.seq);
      await k.publish(b);
      await waitFor(() => k.ackedIds().has(b.id), 10_000, 'ack b');
      expect(k.acks.at(-1)!.contiguousSeq).toBe(c.seq);
      gaps = await hub.store.seqGaps(dev.id, true);
      expect(gaps).toEqual([]);
    });

    it('refuses an unknown device', async () => {
      const { generateDeviceKeys, loadPrivateKey } = await import('../../protocol/index.js');
      const { makeDevice } = await import('./helpers.js');
      const keys = generateDeviceKeys();
      const ghost = makeDevice('kiosk-ghost', 'nope', loadPrivateKey(keys.privateKeyPem), keys.publicKeyPem);
      if (kind === 'aedes') {
        await expect(TestKiosk.connect(hub.mqttUrl.replace('localhost', '127.0.0.1'), topics, ghost.id, 'nope')).rejects.toThrow(/Bad username or password|Not authorized/i);
        expect(metricValue(await metrics(), 'hadir_mqtt_denied_total', 'kind="connect"')).toBeGreaterThanOrEqual(1);
      } else {
        const gk = await TestKiosk.connect(brokerUrl, topics, ghost.id);
        await gk.publish(ghost.next());
        await new Promise((r) => setTimeout(r, 300));
        await hub.ingestor.drain();
        await gk.close();
        expect(metricValue(await metrics(), 'hadir_ingest_rejections_total', 'code="unknown_device"')).toBeGreaterThanOrEqual(1);
      }
    });

    it("does not let a device publish under another device's id", async () => {
      const before = await hub.store.countPunches({ deviceId: other.id });
      const mine = dev.next();
      dev.seq--;
      const sent = k.publish(mine, topics.punch(other.id)).catch(() => undefined);
      await Promise.race([sent, new Promise((r) => setTimeout(r, 1000))]);
      await hub.ingestor.drain();
      const m = await metrics();
      if (kind === 'aedes') {
        // the broker denies it (and, MQTT 3.1.1 having no negative PUBACK, drops the connection) and counts it
        expect(metricValue(m, 'hadir_mqtt_denied_total', 'kind="publish"')).toBeGreaterThanOrEqual(1);
      } else {
        // the shared Mosquitto here allows anonymous publishing; the hub itself refuses a punch under a foreign topic
        await waitFor(async () => metricValue(await (await hub.app.request('/metrics')).text(), 'hadir_ingest_rejections_total', 'code="wrong_topic"') >= 1);
        expect(metricValue(await metrics(), 'hadir_ingest_rejections_total', 'code="wrong_topic"')).toBeGreaterThanOrEqual(1);
      }
      expect(await hub.store.countPunches({ deviceId: other.id })).toBe(before);
      // the hub still ingests (reconnect: aedes closed the offender's connection)
      await k.close();
      k = await TestKiosk.connect(hub.mqttUrl.replace('localhost', '127.0.0.1'), topics, dev.id, kind === 'aedes' ? dev.password : undefined);
      const next = dev.next();
      await k.publish(next);
      await waitFor(() => k.ackedIds().has(next.id), 10_000, 'ack after denial');
    });

    it('tracks online state from the retained status/LWT and the backlog from health; publishes the retained config pointer', async () => {
      const { addUser } = await import('../../hub/users.js');
      const { token } = await addUser(hub.store, { username: `ops-${kind}`, name: 'Ops', role: 'bkpsdm', now: new Date() });
      const configs: string[] = [];
      k.client.on('message', (t, payload) => t === topics.config(dev.id) && configs.push(payload.toString()));
      await k.client.subscribeAsync(topics.config(dev.id), { qos: 1 });
      hub.ctx.bus.emit('roster:changed', {});
      const cfg = JSON.parse(await waitFor(() => configs.at(-1), 10_000, 'retained config')) as { rosterVersion: string };
      expect(cfg.rosterVersion).toMatch(/^[0-9a-f]{32}$/);
      await k.client.publishAsync(topics.status(dev.id), JSON.stringify({ online: true, at: new Date().toISOString() }), { qos: 1, retain: true });
      await k.client.publishAsync(
        topics.health(dev.id),
        JSON.stringify({
          at: new Date().toISOString(), appVersion: '0.1.0', uptimeS: 10, bootId: 'b', monoMs: 10,
          backlog: { undelivered: 42, oldestUndeliveredAt: '2026-11-24T00:00:00.000Z', lastSeq: 99 },
        }),
        { qos: 0 },
      );
      const view = async () =>
        ((await (await hub.app.request('/api/v1/devices', { headers: { authorization: `Bearer ${token}` } })).json()) as {
          items: { id: string; online: boolean; backlog: { undelivered: number | null; oldestUndeliveredAt: string | null }; contiguousSeq: number }[];
        }).items.find((d) => d.id === dev.id)!;
      const v = await waitFor(async () => {
        const x = await view();
        return x.online && x.backlog.undelivered === 42 ? x : null;
      }, 10_000, 'online + backlog');
      expect(v.backlog.oldestUndeliveredAt).toBe('2026-11-24T00:00:00.000Z');
      // the kiosk dies: its last will (here published as the broker would) says offline
      await k.client.publishAsync(topics.status(dev.id), JSON.stringify({ online: false }), { qos: 1, retain: true });
      await waitFor(async () => !(await view()).online, 10_000, 'offline');
      await k.client.publishAsync(topics.status(dev.id), '', { qos: 1, retain: true }); // clear the retained message on the shared broker
    });

    it('shows the device with its seq state on /api/v1/devices-equivalent store view', async () => {
      const d = (await hub.store.getDevice(dev.id))!;
      expect(d.contiguousSeq).toBe(dev.seq);
      expect(d.maxSeq).toBe(dev.seq);
      expect(d.lastSeenAt).not.toBeNull();
    });
  });
}
