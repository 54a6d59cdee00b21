import type { EventEmitter } from 'node:events';
import type { Logger } from '../lib/logger.js';
import type { Clock } from '../lib/clock.js';
import type { ComponentState, Health, Roster, RosterPerson, TopicKind } from '../protocol/index.js';
import type { HubClient } from './hub-client.js';
import type { ClockService, Feedback, FeedbackEvent, HealthReporter, Identification, IdentificationSource } from './types.js';

/**
 * How kiosk features plug into the core (zigbee2mqtt-style extensions): each feature is a class
 * with start()/stop() whose constructor receives a KioskContext; the app builds them in order and
 * stops them in reverse. The core (kiosk/app.ts) owns the journal, publisher and roster; features
 * (face, finger, gpio, health, commands, screen) only use this context.
 */
export interface KioskExtension {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Typed events on the kiosk's bus. */
export interface KioskEvents {
  /** A biometric source recognised someone (before dedup / journaling). */
  identified: [Identification];
  /** The outcome shown to the person (recorded, already, unknown, fault). */
  feedback: [FeedbackEvent];
  /** A punch is on disk (journal) — it may not be delivered yet. */
  'punch:journaled': [{ id: string; seq: number; nip: string; capturedAt: string }];
  /** The hub acknowledged storage of these punch ids. */
  'punch:delivered': [{ ids: string[]; contiguousSeq: number }];
  'roster:updated': [{ version: string }];
  'mqtt:connected': [];
  'mqtt:disconnected': [];
  /** Admin asked (remote command enrol_mode) to enrol a person's face or finger at this kiosk. */
  'enrol:request': [{ requestId: string; nip: string; method: 'face' | 'finger'; finger?: number }];
  'enrol:result': [{ requestId: string; ok: boolean; detail: string }];
  /** A NIP typed on the screen for a 1:1 face verification (issue 17); the face feature replies. */
  'face:claim': [{ nip: string; reply: (r: { ok: true; timeoutS: number } | { ok: false; status: 404 | 409 | 503; reason: string }) => void }];
  /**
   * A camera frame the face loop analysed, with the chosen face box (frame pixels) and the quality
   * hint code, for the screen's live preview. Emitted only while someone listens.
   */
  'face:frame': [{ frame: import('../face/image.js').RgbImage; box: [number, number, number, number] | null; hint: string | null }];
}
export type KioskBus = EventEmitter<KioskEvents>;

export interface RosterView {
  current(): Roster | null;
  byNip(nip: string): RosterPerson | undefined;
  /** Fetch the latest roster from the hub now (remote command "reload roster"). */
  refresh(): Promise<Roster | null>;
}

/** Publishing on this device's own topics (protocol/ builds the topic strings). */
export interface KioskLink {
  readonly connected: boolean;
  publish(kind: Extract<TopicKind, 'status' | 'health' | 'cmdres'>, payload: unknown, opts?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  subscribe(kind: Extract<TopicKind, 'cmd' | 'config'>, handler: (payload: Buffer) => void): void;
}

export interface JournalStats {
  undelivered: number;
  oldestUndeliveredAt: string | null;
  lastSeq: number;
  rejected: number;
}

export interface HealthRegistry {
  register(reporter: HealthReporter): void;
  components(): Record<string, ComponentState>;
}

export interface KioskContext {
  deviceId: string;
  dataDir: string;
  /** The whole validated kiosk config (kiosk/config.ts). */
  config: import('./config.js').KioskConfig;
  simulate: boolean;
  log: Logger;
  bus: KioskBus;
  link: KioskLink;
  /** HTTP to the hub with this device's credentials (protocol/kiosk-api.ts is the contract). */
  hub: HubClient;
  /** The wall clock (ms since the epoch) for everything a feature stamps or times; tests inject it. */
  now: Clock;
  roster: RosterView;
  clock: ClockService;
  health: HealthRegistry;
  journalStats(): JournalStats;
  /** Register a biometric source; the core starts it and turns identifications into punches. */
  addSource(source: IdentificationSource): void;
  /** Register an output for feedback events (GPIO, screen). */
  addFeedback(feedback: Feedback): void;
  /** Replace the clock service (the trusted-time extension installs chrony/timesyncd awareness). */
  setClock(clock: ClockService): void;
  /** Health body assembled by the core (backlog, components); the health extension adds system data and publishes. */
  baseHealth(): Pick<Health, 'backlog' | 'components' | 'appVersion' | 'bootId' | 'monoMs' | 'uptimeS' | 'at'>;
}
