import type { Ack, Topics } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import { iso, type Clock } from '../../lib/clock.js';
import type { HubBus, HubMqtt } from '../module-contract.js';
import type { CoreStore, DeviceRecord, IngestItem, RejectionRecord } from '../store/core-store.js';
import type { CoreMetrics } from '../metrics.js';
import { badSignature, precheckPunchMessage, signatureInput, type Checked } from './validate.js';
import { InlineVerifier, WorkerPoolVerifier, defaultVerifyWorkers, type Verifier } from './verify-pool.js';
import { implausibleTime } from './plausibility.js';

/** Refusal log lines per window at most; beyond, one summary line (a flood of bad messages must not flood the log). */
const REJECT_LOG_MAX = 20;
const REJECT_LOG_WINDOW_MS = 10_000;

/** Batches being checked/verified/stored at once (verification of later batches overlaps storage of earlier ones). */
const PIPELINE_DEPTH = 4;
const DEFAULT_QUEUE_MAX = 100_000;

/** Refusals that depend on the device's registration, not on the punch: never final. */
const TRANSIENT = new Set(['unknown_device', 'disabled', 'not_enrolled']);

interface Queued {
  topic: string;
  payload: Buffer;
  at: number;
}

export interface IngestorOptions {
  store: CoreStore;
  mqtt: HubMqtt;
  topics: Topics;
  bus: HubBus;
  log: Logger;
  metrics: CoreMetrics;
  /** Flush after this many messages … */
  batchMax: number;
  /** … or this long after the first message of a batch, whichever first. */
  batchDelayMs: number;
  /**
   * Messages waiting for a batch, at most; beyond, new messages are dropped unacked (the kiosks
   * resend them after their ack timeout, so nothing is lost) instead of growing memory without bound
   * under a flood. Default 100,000 (≈ 60 MB of payloads).
   */
  queueMax?: number;
  /** Worker threads for Ed25519 verification (0 = on the main thread). Default: cores − 1, at least 2, at most 4. */
  verifyWorkers?: number;
  /** The hub's clock: received_at of every stored punch and rejection. */
  clock: Clock;
}

/**
 * Punch ingest: messages are collected for a few ms (or a few hundred messages), checked, stored
 * in ONE transaction (one fsync), and only after the commit is each device sent one ack listing
 * every id stored now or before, its contiguous seq, and what was refused. Batches run one at a
 * time, in arrival order. The broker's PUBACK proves nothing; this ack is the proof of storage.
 */
export class Ingestor {
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Batches prepared or committing now (at most PIPELINE_DEPTH). */
  private inFlight = 0;
  /** Resolves when the last batch handed to the pipeline is committed (commits are chained in order). */
  private committed: Promise<void> = Promise.resolve();
  private readonly verifier: Verifier;
  private stopped = false;
  private lastShedLog = 0;
  private rejectLog = { windowStart: 0, logged: 0, suppressed: 0 };

  constructor(private readonly o: IngestorOptions) {
    const w = o.verifyWorkers ?? defaultVerifyWorkers();
    this.verifier = w > 0 ? new WorkerPoolVerifier(w) : new InlineVerifier();
  }

  async start(): Promise<void> {
    await this.o.mqtt.subscribe(this.o.topics.all('punch'), (topic, payload) => this.push(topic, payload), { share: true });
  }

  push(topic: string, payload: Buffer): void {
    this.o.metrics.received.inc();
    if (this.queue.length >= (this.o.queueMax ?? DEFAULT_QUEUE_MAX)) {
      this.o.metrics.shed.inc();
      const now = Date.now();
      if (now - this.lastShedLog > 10_000) {
        this.lastShedLog = now;
        this.o.log.warn({ queued: this.queue.length }, 'ingest queue full: dropping punch messages unacked (kiosks will resend)');
      }
      return;
    }
    this.queue.push({ topic, payload, at: this.o.clock() });
    this.o.metrics.queued.set(this.queue.length);
    if (this.queue.length >= this.o.batchMax) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.o.batchDelayMs);
  }

  /**
   * Pipeline: a batch is handed on as soon as it is full or its first message waited
   * batchDelayMs; while batch N is stored and acked on this thread, later batches are already
   * being checked and their signatures verified on the worker threads (up to PIPELINE_DEPTH
   * batches in flight). Commits stay strictly in arrival order. What arrives while the pipeline
   * is full waits and goes as one bigger batch when a slot frees.
   */
  private flush(): void {
    if (this.timer) (clearTimeout(this.timer), (this.timer = null));
    while (this.queue.length && this.inFlight < PIPELINE_DEPTH && !this.stopped) {
      const batch = this.queue.splice(0, this.o.batchMax);
      this.o.metrics.queued.set(this.queue.length);
      this.inFlight++;
      const prepared = this.prepare(batch).then(
        (p) => ({ p }),
        (e: unknown) => ({ e }),
      );
      const previous = this.committed;
      this.committed = (async () => {
        const r = await prepared;
        await previous;
        if ('e' in r) throw r.e;
        await this.commit(r.p);
      })()
        .catch((e) => {
          // Nothing of this batch was acked: the kiosks resend after their timeout, so no punch is lost.
          this.o.log.error({ err: e, size: batch.length }, 'ingest batch failed; kiosks will resend');
        })
        .finally(() => {
          this.inFlight--;
          if (this.queue.length) this.flush();
        });
    }
  }

  /** Waits until everything received so far is stored and acked (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.queue.length || this.inFlight) {
      this.flush();
      await this.committed;
    }
  }

  async stop(): Promise<void> {
    await this.drain();
    this.stopped = true;
    await this.verifier.close();
  }

  /** Stage 1: parse, check device, verify signatures (off-thread). No writes. */
  private async prepare(batch: Queued[]) {
    const { store, topics } = this.o;
    const t0 = performance.now();
    const at = iso(this.o.clock);
    const devices = new Map<string, Promise<DeviceRecord | null>>();
    const lookup = (id: string) => {
      let p = devices.get(id);
      if (!p) devices.set(id, (p = store.getDevice(id)));
      return p;
    };
    const checked: { m: Queued; c: Checked }[] = [];
    for (const m of batch) checked.push({ m, c: await precheckPunchMessage(topics, m.topic, m.payload, lookup) });
    const tPre = performance.now();
    const toVerify = checked.filter((x) => x.c.ok) as { m: Queued; c: Extract<Checked, { ok: true }> }[];
    // the chain hash of each valid punch comes from the verification workers (same canonical bytes)
    const { ok: sigOk, hashes } = await this.verifier.verifyManyHashed(toVerify.map((x) => signatureInput(x.m.payload, x.c.device.publicKeyPem!)));
    const hashOf = new Map<Checked, string>();
    toVerify.forEach((x, i) => {
      if (!sigOk[i]) (x as { c: Checked }).c = badSignature(x.c.punch, x.c.device.id);
      else if (hashes[i]) hashOf.set(x.c, hashes[i]!);
    });
    return { batch, checked, at, lookup, hashOf, t0, tPre, tVer: performance.now() };
  }

  /** At most REJECT_LOG_MAX refusal lines per window, then one line saying how many were not logged. */
  private logRejection(fields: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    const w = this.rejectLog;
    if (now - w.windowStart > REJECT_LOG_WINDOW_MS) {
      if (w.suppressed) this.o.log.warn({ suppressed: w.suppressed }, `${w.suppressed} more punch rejections not logged (see hadir_ingest_rejections_total)`);
      this.rejectLog = { windowStart: now, logged: 0, suppressed: 0 };
    }
    if (this.rejectLog.logged++ < REJECT_LOG_MAX) this.o.log.warn(fields, msg);
    else this.rejectLog.suppressed++;
  }

  /** For tests and tools: both stages for one batch. */
  async processBatch(batch: Queued[]): Promise<void> {
    await this.commit(await this.prepare(batch));
  }

  /** Stage 2: one transaction for the batch, then (only then) the acks and `punches:stored`. */
  private async commit(p: Awaited<ReturnType<Ingestor['prepare']>>): Promise<void> {
    const { store, log, metrics, topics } = this.o;
    const { batch, checked, at, lookup, hashOf, t0, tPre, tVer } = p;
    const receivedMs = Date.parse(at);
    const items: IngestItem[] = [];
    const rejections: RejectionRecord[] = [];
    const refusedFor = new Map<string, { id: string; reason: string }[]>();
    for (const { m, c } of checked) {
      if (c.ok) {
        const reviewReason = implausibleTime(c.punch, receivedMs);
        if (reviewReason) {
          metrics.implausible.inc();
          log.warn({ deviceId: c.punch.deviceId, punchId: c.punch.id, seq: c.punch.seq, capturedAt: c.punch.capturedAt }, `punch stored for review: ${reviewReason}`);
        }
        items.push({ punch: c.punch, siteCode: c.device.siteCode, receivedAt: at, reviewReason, hash: hashOf.get(c) });
        continue;
      }
      metrics.rejected.labels(c.code).inc();
      this.logRejection({ code: c.code, topic: m.topic, punchId: c.punchId }, `punch rejected: ${c.reason}`);
      rejections.push({ at, deviceId: c.topicDeviceId, topic: m.topic, code: c.code, reason: c.reason, punchId: c.punchId });
      // Tell the publishing device (when it is a real one) which id was refused for good, so it can
      // flag it. Not for states an admin can fix (device disabled / not enrolled): those punches
      // stay in the kiosk's backlog, visible, and go through once the device is enabled again.
      if (c.topicDeviceId && c.punchId && !TRANSIENT.has(c.code) && (await lookup(c.topicDeviceId))) {
        const l = refusedFor.get(c.topicDeviceId) ?? [];
        l.push({ id: c.punchId, reason: `${c.code}: ${c.reason}`.slice(0, 200) });
        refusedFor.set(c.topicDeviceId, l);
      }
    }
    const tCommit = performance.now();
    const result = await store.ingestBatch(items, rejections);
    const tStore = performance.now();
    // --- committed: from here on the acks are true ---
    metrics.stored.inc(result.stored.length);
    metrics.duplicates.inc(result.duplicates);
    for (const b of result.chainBreaks ?? []) {
      metrics.chainBreaks.inc();
      log.warn({ deviceId: b.deviceId, seq: b.seq, punchId: b.id }, "punch chain break: prevHash does not follow the device's stored previous punch (wiped journal, replaced or forged kiosk?) — stored and flagged");
    }
    for (const [deviceId, out] of result.devices) {
      for (const r of out.rejected) {
        metrics.rejected.labels(r.code).inc();
        this.logRejection({ code: r.code, deviceId, punchId: r.id }, `punch rejected: ${r.reason}`);
        const l = refusedFor.get(deviceId) ?? [];
        l.push({ id: r.id, reason: `${r.code}: ${r.reason}`.slice(0, 200) });
        refusedFor.set(deviceId, l);
      }
    }
    const ackTo = new Set([...result.devices.keys(), ...refusedFor.keys()]);
    const sends: Promise<void>[] = [];
    for (const deviceId of ackTo) {
      const out = result.devices.get(deviceId);
      const contiguousSeq = out?.contiguousSeq ?? (await lookup(deviceId))?.contiguousSeq ?? 0;
      const rejected = refusedFor.get(deviceId);
      const ids = out?.ids ?? [];
      // ackSchema caps: 10,000 ids, 1,000 refusals per message (batches are smaller; refusals beyond are re-sent and re-refused).
      for (let i = 0; i < Math.max(ids.length, 1); i += 10_000) {
        const ack: Ack = { ids: ids.slice(i, i + 10_000), contiguousSeq };
        if (i === 0 && rejected?.length) ack.rejected = rejected.slice(0, 1000);
        sends.push(
          this.o.mqtt.publish(topics.ack(deviceId), JSON.stringify(ack), { qos: 1 }).then(
            () => metrics.acks.inc(),
            (e) => log.warn({ err: (e as Error).message, deviceId }, 'ack publish failed; the kiosk will resend and be acked again'),
          ),
        );
      }
    }
    if (result.stored.length) {
      try {
        this.o.bus.emit('punches:stored', result.stored);
      } catch (e) {
        log.error({ err: e }, 'a punches:stored listener failed (punches are stored and acked)');
      }
    }
    if (log.isLevelEnabled('debug')) {
      const ms = (x: number) => Math.round(x * 10) / 10;
      log.debug({ size: batch.length, checkMs: ms(tPre - t0), verifyMs: ms(tVer - tPre), waitMs: ms(tCommit - tVer), storeMs: ms(tStore - tCommit), ackMs: ms(performance.now() - tStore) }, 'ingest batch');
    }
    metrics.batchSize.observe(batch.length);
    metrics.batchSeconds.observe((performance.now() - t0) / 1000);
    // Do not wait for PUBACKs of acks before the next batch; they are in flight in order.
    void Promise.all(sends);
  }
}
