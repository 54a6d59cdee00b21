import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { kioskConfigSchema, type KioskConfig } from '../config.js';
import { parseDocument } from '../../lib/config-file.js';
import { probeClock } from '../clock/probe.js';
import { HubClient, HubError, causeOf } from '../hub-client.js';
import { KIOSK_API, rosterReplySchema } from '../../protocol/index.js';

/**
 * The technician's self-test (end of provisioning, and `hadir kiosk selftest` any time): one
 * line per check with OK / PERINGATAN (warn) / GAGAL (fail) / LEWATI (skip) and, when not OK, what
 * to do. The ids are the rows of the troubleshooting table in docs/technician.md.
 */
export type CheckState = 'ok' | 'warn' | 'fail' | 'skip';
export interface CheckResult {
  id: string;
  title: string;
  state: CheckState;
  detail: string;
  fix?: string;
}
export interface SelftestOptions {
  configPath: string;
  /** Skip camera / fingerprint / GPIO (image building, tests, a bench without hardware). */
  skipHardware?: boolean;
  /** Prefix for device paths (a mounted image root). */
  root?: string;
  timeoutMs?: number;
}

const TAG: Record<CheckState, string> = { ok: '[  OK  ]', warn: '[PERINGATAN/WARN]', fail: '[GAGAL/FAIL]', skip: '[LEWATI/SKIP]' };

export function formatChecklist(deviceId: string | null, rows: CheckResult[]): string {
  const lines = [`Uji mandiri kiosk / kiosk self-test${deviceId ? ` — ${deviceId}` : ''}`];
  for (const r of rows) {
    lines.push(`${TAG[r.state].padEnd(18)} ${r.title}: ${r.detail}`);
    if (r.fix && r.state !== 'ok') lines.push(`${' '.repeat(19)}→ ${r.fix}`);
  }
  const n = (s: CheckState) => rows.filter((r) => r.state === s).length;
  lines.push(`Hasil / result: ${n('ok')} OK, ${n('warn')} peringatan/warnings, ${n('fail')} gagal/failed, ${n('skip')} dilewati/skipped`);
  return lines.join('\n');
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(t));
}

export async function runSelftest(o: SelftestOptions): Promise<{ config: KioskConfig | null; rows: CheckResult[] }> {
  const rows: CheckResult[] = [];
  const timeout = o.timeoutMs ?? 5000;
  const dev = (p: string) => (o.root ? join(o.root, p) : p);

  // 1. config
  let cfg: KioskConfig | null = null;
  try {
    cfg = parseDocument(kioskConfigSchema, readFileSync(o.configPath, 'utf8'), o.configPath, 're-run provisioning');
    const mode = statSync(o.configPath).mode & 0o777;
    if (mode & 0o077) rows.push({ id: 'config', title: 'Konfigurasi / config', state: 'fail', detail: `${o.configPath} mode ${mode.toString(8)}: readable by others (holds the private key)`, fix: `chmod 600 ${o.configPath}` });
    else rows.push({ id: 'config', title: 'Konfigurasi / config', state: 'ok', detail: `${o.configPath} valid, mode ${mode.toString(8)}, device ${cfg.deviceId}, site ${cfg.siteCode}` });
  } catch (e) {
    rows.push({ id: 'config', title: 'Konfigurasi / config', state: 'fail', detail: (e as Error).message.slice(0, 300), fix: 'jalankan ulang provisioning / re-run provisioning/provision.sh with a new token' });
    return { config: null, rows };
  }

  // 2. data dir + disk
  const dataDir = dev(cfg.dataDir);
  try {
    accessSync(dataDir, constants.W_OK);
    const s = await statfs(dataDir);
    const pct = Math.round((s.bavail / s.blocks) * 1000) / 10;
    rows.push(pct < 10
      ? { id: 'disk', title: 'Penyimpanan / storage', state: 'warn', detail: `${dataDir}: only ${pct}% free`, fix: 'hapus berkas lama atau ganti kartu SD / free space or use a larger SD card' }
      : { id: 'disk', title: 'Penyimpanan / storage', state: 'ok', detail: `${dataDir} writable, ${pct}% free` });
  } catch (e) {
    rows.push({ id: 'disk', title: 'Penyimpanan / storage', state: 'fail', detail: `${dataDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, fix: `mkdir -p ${cfg.dataDir} && chown hadir:hadir ${cfg.dataDir}` });
  }

  // 3. clock
  try {
    const c = await probeClock(cfg.clock);
    rows.push(c.synced
      ? { id: 'clock', title: 'Jam / clock', state: 'ok', detail: c.detail }
      : { id: 'clock', title: 'Jam / clock', state: 'warn', detail: c.detail, fix: 'periksa akses NTP (UDP 123) ke server Pemkab/hub; presensi tetap dicatat dengan tanda "belum sinkron" / check NTP (UDP 123) reachability; punches are still taken, marked unsynced (chronyc sources -v)' });
  } catch (e) {
    rows.push({ id: 'clock', title: 'Jam / clock', state: 'warn', detail: (e as Error).message });
  }

  // 4. hub over HTTP, 5. credentials, 6. MQTT
  const hubClient = HubClient.forConfig(cfg, timeout);
  const hub = cfg.hubUrl.replace(/\/$/, '');
  let hubUp = false;
  try {
    const r = await hubClient.request(KIOSK_API.healthz, { auth: false });
    hubUp = r.ok;
    rows.push(r.ok ? { id: 'hub', title: 'Hub (HTTP)', state: 'ok', detail: `${hub}/healthz → ${r.status}` } : { id: 'hub', title: 'Hub (HTTP)', state: 'fail', detail: `${hub}/healthz → HTTP ${r.status}`, fix: 'hub berjalan tetapi tidak sehat: hubungi admin hub / the hub answers but is unhealthy: ask the hub admin' });
  } catch (e) {
    rows.push({ id: 'hub', title: 'Hub (HTTP)', state: 'fail', detail: `${hub}: ${e instanceof HubError ? e.reason : causeOf(e)}`, fix: 'periksa kabel/Wi-Fi, IP, dan firewall ke hub / check cable or Wi-Fi, IP address and firewall to the hub' });
  }
  if (hubUp) {
    try {
      const roster = await hubClient.get(KIOSK_API.roster, rosterReplySchema);
      rows.push({ id: 'enrolment', title: 'Pendaftaran perangkat / device enrolment', state: 'ok', detail: `accepted by the hub, roster of ${roster.people.length} people` });
    } catch (e) {
      if (e instanceof HubError && e.kind === 'refused') {
        rows.push({ id: 'enrolment', title: 'Pendaftaran perangkat / device enrolment', state: 'fail', detail: `hub refused the device credentials (HTTP ${e.status})`, fix: 'perangkat dinonaktifkan atau didaftarkan ulang: minta token baru dan jalankan provision.sh --force-enrol / device disabled or re-registered: get a new token and re-run provision.sh --force-enrol' });
      } else {
        rows.push({ id: 'enrolment', title: 'Pendaftaran perangkat / device enrolment', state: 'fail', detail: e instanceof HubError && e.kind === 'unreachable' ? e.reason : (e as Error).message.slice(0, 300) });
      }
    }
  } else {
    rows.push({ id: 'enrolment', title: 'Pendaftaran perangkat / device enrolment', state: 'skip', detail: 'hub unreachable' });
  }
  rows.push(o.root || !kioskServiceActive() ? await mqttCheck(cfg, timeout) : {
    id: 'mqtt', title: 'MQTT broker', state: 'skip',
    detail: 'hadir-kiosk berjalan dan memegang sesi MQTT / hadir-kiosk is running and holds the MQTT session (same client id); its connection state is on the screen and in `journalctl -u hadir-kiosk`',
  });

  // 7. hardware
  if (o.skipHardware) {
    for (const [id, title] of [['camera', 'Kamera / camera'], ['finger', 'Sensor sidik jari / fingerprint sensor'], ['gpio', 'GPIO (LED/buzzer)']] as const) rows.push({ id, title, state: 'skip', detail: '--skip-hardware' });
  } else {
    rows.push(deviceCheck('camera', 'Kamera / camera', cfg.face.enabled && cfg.face.camera.driver !== 'dir' ? dev(cfg.face.camera.device) : null, 'pasang kamera USB/CSI, lalu `ls -l /dev/video*`; pengguna hadir harus di grup video / plug in the camera; user hadir must be in group video'));
    rows.push(deviceCheck('finger', 'Sensor sidik jari / fingerprint sensor', cfg.finger.enabled ? dev(cfg.finger.port) : null, 'periksa kabel UART (TX↔RX), `enable_uart=1` di /boot/firmware/config.txt, grup dialout / check UART wiring (TX↔RX), enable_uart=1, group dialout'));
    // onoff drives the pins through sysfs: its export file must exist and be writable for the hadir user (group gpio).
    const exportFile = dev(join(cfg.gpio.sysfsRoot, 'export'));
    let gpio: CheckResult;
    if (!cfg.gpio.enabled) gpio = { id: 'gpio', title: 'GPIO (LED/buzzer)', state: 'skip', detail: 'disabled in config' };
    else if (!existsSync(exportFile)) gpio = { id: 'gpio', title: 'GPIO (LED/buzzer)', state: 'warn', detail: `${exportFile} missing`, fix: 'bukan Raspberry Pi? matikan gpio.enabled / not a Raspberry Pi? set gpio.enabled=false' };
    else {
      try {
        accessSync(exportFile, constants.W_OK);
        gpio = { id: 'gpio', title: 'GPIO (LED/buzzer)', state: 'ok', detail: `${exportFile} writable` };
      } catch {
        gpio = { id: 'gpio', title: 'GPIO (LED/buzzer)', state: 'warn', detail: `${exportFile} not writable by this user`, fix: 'usermod -aG gpio hadir' };
      }
    }
    rows.push(gpio);
  }
  return { config: cfg, rows };
}

function deviceCheck(id: string, title: string, path: string | null, fix: string): CheckResult {
  if (!path) return { id, title, state: 'skip', detail: 'disabled in config' };
  try {
    const s = statSync(path);
    if (!s.isCharacterDevice()) return { id, title, state: 'fail', detail: `${path} is not a device`, fix };
    accessSync(path, constants.R_OK | constants.W_OK);
    return { id, title, state: 'ok', detail: `${path} present` };
  } catch (e) {
    return { id, title, state: 'fail', detail: `${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, fix };
  }
}

function kioskServiceActive(): boolean {
  const r = spawnSync('systemctl', ['is-active', '--quiet', 'hadir-kiosk.service']);
  return r.status === 0;
}

/**
 * Brokers accept a device only with client id = device id, so this connects AS the kiosk: with
 * clean=false (its persistent session and queued messages survive), and only while the kiosk
 * service is not running (a second connection would push the kiosk off).
 */
async function mqttCheck(cfg: KioskConfig, timeout: number): Promise<CheckResult> {
  const title = 'MQTT broker';
  const { default: mqtt } = await import('mqtt');
  const client = mqtt.connect(cfg.mqtt.url, {
    protocolVersion: 4,
    clientId: cfg.deviceId,
    username: cfg.mqtt.username,
    password: cfg.mqtt.password,
    clean: false,
    reconnectPeriod: 0,
    connectTimeout: timeout,
  });
  try {
    await withTimeout(
      new Promise<void>((res, rej) => {
        client.once('connect', () => res());
        client.once('error', rej);
        client.once('close', () => rej(new Error('connection closed')));
      }),
      timeout,
      'MQTT',
    );
    return { id: 'mqtt', title, state: 'ok', detail: `${cfg.mqtt.url} accepted ${cfg.mqtt.username}` };
  } catch (e) {
    const m = causeOf(e);
    const auth = /not authorized|bad user|Connection refused: (Not|Bad)/i.test(m);
    return {
      id: 'mqtt', title, state: 'fail', detail: `${cfg.mqtt.url}: ${m}`,
      fix: auth ? 'kata sandi ditolak: daftar ulang perangkat / password rejected: re-enrol the device' : 'periksa port MQTT (1883/8883) di firewall / check the MQTT port (1883/8883) through the firewall',
    };
  } finally {
    client.end(true);
  }
}
