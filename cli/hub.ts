import { userInfo } from 'node:os';
import type { Groups } from './program.js';
import { csvDialectOption } from './csv-dialect.js';
import { UserError } from '../lib/errors.js';
import { formatOption, officeOffset, table } from './format.js';
import { hubConfig, hubDataOptions as storeFlags, withHub, type HubFlags as StoreFlags } from './open-hub.js';
import { iso } from '../lib/clock.js';

/** The hub, for commands that use only the core store (and settings): it exists on PostgreSQL too, so these run on either store. */
const withCore: typeof withHub = (flags, fn, opts = {}) => withHub(flags, fn, { ...opts, postgres: true });

/**
 * Commands of the hub area: `hadir hub`, `hadir device add|list|disable|enable|conflicts|recover|broker-passwd`, `hadir user add|passwd`,
 * `hadir report punches`, `hadir bench ingest`. Administrative commands open the hub's store
 * directly through `withHub` (cli/open-hub.ts), so they work whether or not the hub runs.
 */

export function registerHubCommands(g: Groups): void {
  storeFlags(
    g.program
      .command('hub')
      .description('Jalankan hub / run the hub: HTTP API, MQTT broker (embedded unless --mqtt-url), ingest')
      .option('--http-port <n>', 'HTTP port (HADIR_HTTP_PORT, default 8080)')
      .option('--http-host <addr>', 'address HTTP listens on (HADIR_HTTP_HOST, default 0.0.0.0 = all)')
      .option('--mqtt-port <n>', 'embedded MQTT broker port (default 1883)')
      .option('--mqtt-host <addr>', 'address the embedded broker listens on (HADIR_MQTT_HOST, default 0.0.0.0 = all)')
      .option('--mqtt-url <url>', 'use an external broker instead (HADIR_MQTT_URL), e.g. mqtt://127.0.0.1:1883')
      .option('--no-mqtt-shared', 'external broker: plain subscription instead of $share/hadir-hub/… (single hub, broker without shared subscriptions)')
      .option('--prefix <p>', 'MQTT topic prefix (default hadir/v1)')
      .option('--public-url <url>', 'how kiosks reach this hub over HTTP (HADIR_PUBLIC_URL)')
      .option('--public-mqtt-url <url>', 'how kiosks reach the broker (HADIR_PUBLIC_MQTT_URL)'),
  ).action(async (o: StoreFlags & { httpPort?: string; httpHost?: string; mqttHost?: string; mqttPort?: string; mqttUrl?: string; mqttShared: boolean; prefix?: string; publicUrl?: string; publicMqttUrl?: string }) => {
    const { startHub } = await import('../hub/server.js');
    const hub = await startHub({
      httpPort: o.httpPort, httpHost: o.httpHost, mqttHost: o.mqttHost, mqttPort: o.mqttPort, mqttUrl: o.mqttUrl, mqttShared: o.mqttShared, dataDir: o.data, dbUrl: o.db,
      prefix: o.prefix, publicUrl: o.publicUrl, publicMqttUrl: o.publicMqttUrl,
    } as never);
    process.stderr.write(`hadir hub: http://${hub.config.httpHost === '0.0.0.0' ? 'localhost' : hub.config.httpHost}:${hub.httpPort}  mqtt ${hub.config.mqttUrl ? hub.mqttUrl : `embedded :${hub.mqttPort}`}  data ${hub.config.dataDir}\n`);
    if (!hub.config.publicUrl) {
      process.stderr.write(`hadir hub: kiosk configs will point at ${hub.publicUrl} — set --public-url / HADIR_PUBLIC_URL (and --public-mqtt-url) to an address kiosks can reach\n`);
    }
    await new Promise<void>((res) => {
      const stop = () => res();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await hub.close();
  });

  storeFlags(
    g.device
      .command('add')
      .description('Daftarkan kiosk / register a kiosk: prints a one-time enrolment token')
      .requiredOption('--site <code>', 'site code (from `hadir import org`)')
      .option('--id <id>', 'device id (a-z 0-9 -); default kiosk-<site>-N')
      .option('--ttl <duration>', 'token lifetime, e.g. 24h, 90m, 7d', '24h')
      .option('--kiosk-config <file>', 'also make the key pair, enrol now and write a ready kiosk config (mode 0600)')
      .option('--hub-url <url>', 'hub URL written into the kiosk config (default HADIR_PUBLIC_URL or http://localhost:8080)')
      .option('--mqtt-url <url>', 'broker URL written into the kiosk config (default HADIR_PUBLIC_MQTT_URL / HADIR_MQTT_URL / mqtt://localhost:1883)')
      .option('--prefix <p>', 'MQTT topic prefix (default hadir/v1)')
      .option('--kiosk-data <dir>', 'dataDir written into the kiosk config (default /var/lib/hadir)'),
  ).action(async (o: StoreFlags & { site: string; id?: string; ttl: string; kioskConfig?: string; hubUrl?: string; mqttUrl?: string; prefix?: string; kioskData?: string }) => {
    const { registerDevice, enrolDevice, parseTtl } = await import('../hub/devices/registry.js');
    await withCore(o, async ({ store, config, clock }) => {
      const now = new Date(clock());
      const ttlMs = parseTtl(o.ttl);
      let pre: { keys: ReturnType<typeof import('../protocol/index.js').generateDeviceKeys>; ends: { hubUrl: string; mqttUrl: string; prefix: string } } | null = null;
      if (o.kioskConfig) {
        const { generateDeviceKeys } = await import('../protocol/index.js');
        const { kioskConfigSchema } = await import('../kiosk/config.js');
        const { formatIssues } = await import('../lib/config-file.js');
        const { kioskEndpoints, withoutCredentials } = await import('../hub/config.js');
        const keys = generateDeviceKeys();
        const hubEnds = kioskEndpoints(config);
        const ends = {
          hubUrl: o.hubUrl ?? hubEnds.hubUrl,
          // never the hub's own broker login (HADIR_MQTT_URL may carry it)
          mqttUrl: o.mqttUrl ? withoutCredentials(o.mqttUrl) : hubEnds.mqttUrl,
          prefix: o.prefix ?? hubEnds.prefix,
        };
        // Validate the would-be config before registering anything, so a bad --hub-url changes nothing.
        const check = kioskConfigSchema.safeParse({
          deviceId: o.id ?? 'kiosk-check', siteCode: o.site, hubUrl: ends.hubUrl, ...(o.kioskData ? { dataDir: o.kioskData } : {}),
          mqtt: { url: ends.mqttUrl, username: 'x', password: 'x', prefix: ends.prefix }, privateKeyPem: keys.privateKeyPem,
        });
        if (!check.success) throw new UserError(`the kiosk config would be invalid: ${formatIssues(check.error)}`, 'fix --hub-url / --mqtt-url / --kiosk-data / --prefix');
        pre = { keys, ends };
      }
      const r = await registerDevice(store, { siteCode: o.site, deviceId: o.id, ttlMs, now });
      const out: string[] = [];
      out.push(`Perangkat / device: ${r.device.id} (lokasi / site ${r.device.siteCode})${r.reissued ? ' — token baru / new token for an existing device' : ''}`);
      if (!o.kioskConfig) {
        out.push(`Token pendaftaran / enrolment token (sekali pakai / one-time, berlaku s.d. / valid until ${r.expiresAt}):`);
        out.push(r.token);
        process.stdout.write(out.join('\n') + '\n');
        return;
      }
      const { keys, ends } = pre!;
      const { kioskConfigSchema } = await import('../kiosk/config.js');
      const { writeFileAtomic } = await import('../lib/write-atomic.js');
      const kc = {
        deviceId: r.device.id,
        siteCode: r.device.siteCode,
        hubUrl: ends.hubUrl,
        ...(o.kioskData ? { dataDir: o.kioskData } : {}),
        mqtt: { url: ends.mqttUrl, username: r.device.id, password: '', prefix: ends.prefix },
        privateKeyPem: keys.privateKeyPem,
      };
      const res = await enrolDevice(store, { token: r.token, publicKeyPem: keys.publicKeyPem }, ends, now);
      kc.mqtt.password = res.mqtt.password;
      kioskConfigSchema.parse(kc);
      writeFileAtomic(o.kioskConfig!, JSON.stringify(kc, null, 2) + '\n', 0o600);
      out.push(`Terdaftar dan aktif / enrolled: kunci Ed25519 dibuat / key pair made on this machine`);
      out.push(`Konfigurasi kiosk ditulis / kiosk config written: ${o.kioskConfig} (mode 0600; berisi kunci privat / holds the private key)`);
      process.stdout.write(out.join('\n') + '\n');
    });
  });

  storeFlags(
    g.device
      .command('list')
      .description('Daftar kiosk / list kiosks with online state, seq and backlog')
      .addOption(formatOption(['table', 'json'])),
  ).action(async (o: StoreFlags & { format: string }) => {
    const { deviceView } = await import('../hub/http/app.js');
    await withCore(o, async ({ store, stores }) => {
      const [devices, gaps] = await Promise.all([store.listDevices(), store.seqGaps(undefined, true)]);
      const views = devices.map((d) => deviceView(d, gaps));
      if (o.format === 'json') return void process.stdout.write(JSON.stringify(views, null, 2) + '\n');
      const { localStamp } = await import('../lib/local-time.js');
      const tz = await officeOffset(stores);
      const rows = [['ID', 'LOKASI/SITE', 'STATUS', 'TERAKHIR/LAST SEEN', 'SEQ', 'CELAH/GAPS', 'ANTRIAN/BACKLOG']];
      for (const v of views) {
        rows.push([
          v.id, v.siteCode,
          v.disabled ? 'nonaktif/disabled' : !v.enrolled ? 'belum terdaftar/not enrolled' : v.online ? 'online' : 'offline',
          localStamp(v.lastSeenAt, tz), `${v.contiguousSeq}/${v.maxSeq}`,
          v.seqGaps.map((g) => (g.from === g.to ? `${g.from}` : `${g.from}-${g.to}`)).join(',') || '-',
          v.backlog.undelivered === null ? '-' : String(v.backlog.undelivered),
        ]);
      }
      process.stdout.write(table(rows));
      if (!views.length) process.stdout.write('(belum ada kiosk / no kiosks yet — `hadir device add --site SITE`)\n');
    });
  });

  storeFlags(
    g.device
      .command('disable')
      .argument('<id>', 'device id (see `hadir device list`)')
      .description('Nonaktifkan kiosk / take a kiosk out of service: the hub disconnects it within seconds and refuses its logins; its punches wait in its backlog until `hadir device enable`')
      .requiredOption('--reason <text>', 'why, e.g. "dicuri / stolen" (kept with the device, shown by `device list --format json`)')
      .option('--by <name>', 'who disables it (default: your login name)'),
  ).action(async (id: string, o: StoreFlags & { reason: string; by?: string }) => {
    const reason = o.reason.trim();
    if (!reason || reason.length > 500) throw new UserError('--reason must be 1–500 characters', 'say why, e.g. --reason "kiosk dicuri / stolen"');
    const by = `cli:${o.by ?? operatorName()}`;
    await withCore(o, async ({ store, clock }) => {
      const before = await knownDevice(store, id);
      const d = (await store.disableDevice(id, { at: iso(clock), reason, by }))!;
      process.stdout.write(
        `Perangkat / device ${d.id} ${before.disabledAt ? `sudah nonaktif sejak / already disabled since ${d.disabledAt}; alasan diperbarui / reason updated` : `dinonaktifkan / disabled at ${d.disabledAt}`} (${by}: ${reason}).\n` +
          'Broker bawaan memutus koneksinya dalam beberapa detik / the embedded broker disconnects it within seconds; ' +
          'Mosquitto: jalankan / run `hadir device broker-passwd` + `systemctl reload mosquitto`.\n',
      );
    });
  });

  storeFlags(
    g.device
      .command('enable')
      .argument('<id>', 'device id')
      .description('Aktifkan kembali kiosk / bring a disabled kiosk back: it may log in again and its waiting punches are stored'),
  ).action(async (id: string, o: StoreFlags) => {
    await withCore(o, async ({ store }) => {
      const before = await knownDevice(store, id);
      await store.enableDevice(id);
      process.stdout.write(
        before.disabledAt
          ? `Perangkat / device ${id} aktif kembali / enabled (nonaktif sejak / disabled since ${before.disabledAt}). Mosquitto: jalankan / run \`hadir device broker-passwd\` + \`systemctl reload mosquitto\`.\n`
          : `Perangkat / device ${id} sudah aktif / is already enabled; nothing changed.\n`,
      );
    });
  });

  storeFlags(
    g.device
      .command('conflicts')
      .argument('<id>', 'device id (see `hadir device list`)')
      .description('Punch yang ditolak sebagai seq_conflict / punches refused as seq_conflict (a kiosk whose journal was wiped restarted its seq), kept for `hadir device recover`')
      .addOption(formatOption(['table', 'json'])),
  ).action(async (id: string, o: StoreFlags & { format: string }) => {
    await withCore(o, async ({ store }) => {
      await knownDevice(store, id);
      const rows = (await store.punchConflicts(id)).map((c) => ({
        seq: c.seq, id: c.id, nip: c.punch.nip, capturedAt: c.punch.capturedAt, receivedAt: c.receivedAt, recovered: c.recovered, recoveredBy: c.recoveredBy,
      }));
      if (o.format === 'json') return void process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      if (!rows.length) return void process.stdout.write(`Tidak ada punch seq_conflict untuk / no seq_conflict punches for ${id}.\n`);
      const conflicts = [['SEQ', 'ID', 'NIP', 'WAKTU/CAPTURED (UTC)', 'DIPULIHKAN/RECOVERED']];
      for (const r of rows) conflicts.push([String(r.seq), r.id, r.nip, r.capturedAt, r.recovered ? `ya/yes (${r.recoveredBy ?? '-'})` : 'belum/no']);
      process.stdout.write(table(conflicts));
      const open = rows.filter((r) => !r.recovered).length;
      process.stdout.write(`${rows.length} punch, ${open} belum dipulihkan / not recovered yet${open ? ` — hadir device recover ${id} --by NAMA` : ''}\n`);
    });
  });

  storeFlags(
    g.device
      .command('recover')
      .argument('<id>', 'device id')
      .description('Pulihkan punch seq_conflict / store the kept seq_conflict punches of a kiosk as its punches (seq empty, noted, counted by attendance); safe to run again')
      .option('--id <punchId...>', 'only these punch ids (default: all of the device not recovered yet)')
      .requiredOption('--by <name>', 'admin recorded as who recovered them (imported_by)'),
  ).action(async (id: string, o: StoreFlags & { id?: string[]; by: string }) => {
    const by = o.by.trim();
    if (!by || by.length > 100) throw new UserError('--by must be 1–100 characters', 'name the admin, e.g. --by budi.bkpsdm');
    await withCore(o, async ({ store }) => {
      await knownDevice(store, id);
      const r = await store.recoverConflicts(id, o.id ?? null, by);
      if (r.unknown.length) {
        throw new UserError(`no seq_conflict punch ${r.unknown.join(', ')} for device ${id}; nothing was stored / punch tidak ditemukan, tidak ada yang disimpan`, `list them with \`hadir device conflicts ${id}\``);
      }
      const lines = [`Dipulihkan / recovered: ${r.stored.length} punch dari / of ${id} (seq kosong / seq empty, catatan / note "recovered after seq_conflict", oleh / by ${by}).`];
      if (r.already.length) lines.push(`Sudah tersimpan sebelumnya, tidak diulang / already stored, not duplicated: ${r.already.length}${o.id ? ` (${r.already.join(', ')})` : ''}.`);
      if (r.stored.length) lines.push('Kehadiran dihitung ulang otomatis / attendance is re-derived automatically.');
      process.stdout.write(lines.join('\n') + '\n');
    });
  });

  storeFlags(
    g.device
      .command('broker-passwd')
      .description('Mosquitto: tulis password_file dan ACL / write the password file and ACL for an external broker')
      .requiredOption('--out <file>', 'password file to write (mode 0600), e.g. /etc/mosquitto/hadir.passwd')
      .option('--acl <file>', 'also write the ACL file, e.g. /etc/mosquitto/hadir.acl')
      .option('--mqtt-url <url>', "the hub's broker URL with its credentials, mqtt://USER:PASSWORD@host:1883 (default HADIR_MQTT_URL)")
      .option('--prefix <p>', 'MQTT topic prefix (default hadir/v1)')
      .option('--owner <user>', 'owner of the written files: the user the broker runs as (default mosquitto, when that user exists)'),
  ).action(async (o: StoreFlags & { out: string; acl?: string; mqttUrl?: string; prefix?: string; owner?: string }) => {
    const { brokerAuthFiles } = await import('../hub/devices/registry.js');
    const { writeFileAtomic } = await import('../lib/write-atomic.js');
    const { systemUser } = await import('../lib/system-user.js');
    // Mosquitto started as root drops to its `mosquitto` user before it reads password_file and
    // acl_file: a root-owned 0600 file gives "Unable to open pwfile". Owned by that user, 0600/0640.
    const ownerName = o.owner ?? 'mosquitto';
    const owner = systemUser(ownerName);
    if (!owner && o.owner) throw new UserError(`no system user ${o.owner}`, 'pass --owner with the user the broker runs as (Debian: mosquitto)');
    const uid = process.getuid?.() ?? -1;
    if (owner && uid !== 0 && uid !== owner.uid) {
      throw new UserError(`only root can give the files to ${ownerName}, and the broker (running as ${ownerName}) could not read them otherwise`, 'run it with sudo, or pass --owner with your own user if the broker runs as you');
    }
    const config = await hubConfig(o, process.env, { postgres: true });
    const raw = o.mqttUrl ?? config.mqttUrl;
    let u: URL | null = null;
    try {
      u = raw ? new URL(raw) : null;
    } catch {
      u = null;
    }
    if (!u || !u.username || !u.password) {
      throw new UserError("the hub's broker credentials are needed", 'pass --mqtt-url mqtt://hadir-hub:PASSWORD@127.0.0.1:1883 (the same URL the hub uses as HADIR_MQTT_URL)');
    }
    await withCore(o, async ({ store }) => {
      const r = await brokerAuthFiles(store, { prefix: o.prefix ?? config.prefix, hubUser: decodeURIComponent(u.username), hubPassword: decodeURIComponent(u.password) });
      writeFileAtomic(o.out, r.passwd, 0o600, owner ?? undefined);
      if (o.acl) writeFileAtomic(o.acl, r.acl, 0o640, owner ?? undefined);
      process.stdout.write(`Ditulis / written: ${o.out}${o.acl ? ` and ${o.acl}` : ''}${owner ? ` (owner ${ownerName})` : ''} — hub user ${decodeURIComponent(u.username)} + ${r.included.length} kiosk(s). Reload Mosquitto: systemctl reload mosquitto\n`);
      if (r.missing.length) process.stderr.write(`hadir: ${r.missing.length} kiosk(s) enrolled before broker passwords were kept and are NOT in the file (${r.missing.join(', ')}) — re-enrol them with a new token from \`hadir device add\`\n`);
    });
  });

  const user = g.program.command('user').description('Pengguna hub / hub users and API tokens');
  storeFlags(
    user
      .command('add')
      .description('Tambah pengguna / add a user; prints a bearer token for the API')
      .requiredOption('--username <u>', 'login name')
      .requiredOption('--name <name>', 'display name')
      .requiredOption('--role <role>', 'bkpsdm (whole regency) | opd_admin (one OPD) | technician (terminals only; --opd optional)')
      .option('--opd <code>', 'OPD code (required for opd_admin)')
      .option('--password-stdin', 'also set the web login password, read from standard input'),
  ).action(async (o: StoreFlags & { username: string; name: string; role: string; opd?: string; passwordStdin?: boolean }) => {
    const { addUser, setPassword, MIN_PASSWORD_LENGTH } = await import('../hub/users.js');
    // read (and check) the password before creating anything: a bad password leaves no half-made user
    const password = o.passwordStdin ? await readPassword() : null;
    if (password !== null && password.length < MIN_PASSWORD_LENGTH) throw new UserError(`password too short (${password.length} characters)`, `use at least ${MIN_PASSWORD_LENGTH} characters`);
    await withCore(o, async ({ store, clock }) => {
      const { token } = await addUser(store, { username: o.username, name: o.name, role: o.role as 'bkpsdm', opdCode: o.opd ?? null, now: new Date(clock()) });
      if (password !== null) await setPassword(store, o.username, password);
      process.stdout.write(`Pengguna / user ${o.username} (${o.role}${o.opd ? ` ${o.opd}` : ''}) dibuat / created${password !== null ? ' (kata sandi web diset / web password set)' : ''}.\nToken API (simpan, hanya ditampilkan sekali / keep it, shown once):\n${token}\n`);
    }, { create: true }); // the first BKPSDM login may come before anything else on a new hub
  });
  storeFlags(
    user
      .command('passwd')
      .argument('<username>', 'login name')
      .description('Set kata sandi login web / set the web login password (read from standard input, or asked for on a terminal)'),
  ).action(async (username: string, o: StoreFlags) => {
    const { setPassword } = await import('../hub/users.js');
    const password = await readPassword();
    await withCore(o, async ({ store }) => {
      await setPassword(store, username, password);
      process.stdout.write(`Kata sandi ${username} diperbarui / password of ${username} updated.\n`);
    });
  });

  storeFlags(
    g.report
      .command('punches')
      .description('Daftar punch / punches as JSON or CSV (times ISO-8601 UTC)')
      .option('--from <date>', 'from (inclusive), ISO date or date-time')
      .option('--to <date>', 'to (exclusive)')
      .option('--device <id>', 'only this device')
      .option('--nip <nip>', 'only this employee')
      .addOption(formatOption(['json', 'csv']))
      .option('--out <file>', 'write to a file (atomically) instead of stdout')
      .addOption(csvDialectOption()),
  ).action(async (o: StoreFlags & { from?: string; to?: string; device?: string; nip?: string; format: string; out?: string; csvDialect: 'en' | 'id' }) => {
    const { renderPunchReport } = await import('../hub/reports/punches.js');
    await withCore(o, async ({ store }) => {
      const text = await renderPunchReport(store, o);
      if (o.out) {
        const { writeFileAtomic } = await import('../lib/write-atomic.js');
        writeFileAtomic(o.out, text);
      } else process.stdout.write(text);
    });
  });

  g.bench
    .command('ingest')
    .description('Ingest throughput: kiosks → broker → hub → store → ack, vs the raw broker rate; and a 20,000-punch backlog flush')
    .option('--devices <n>', 'simulated kiosks', '10')
    .option('--punches <n>', 'punches per kiosk for the throughput run', '4000')
    .option('--backlog <n>', 'backlog size for the flush run', '20000')
    .option('--mqtt-url <url>', 'measure through an external broker (e.g. Mosquitto) instead of the embedded one')
    .option('--verify-workers <n>', 'signature verification threads (default: cores − 1, at least 2, at most 4)')
    .option('--window <n>', 'unconfirmed messages per kiosk (default: the kiosk\'s window, 500; 80 with --mqtt-url, as Mosquitto drops beyond max_queued_messages)')
    .option('--storm', 'reconnect storm: every kiosk (real journal, link and publisher, in a child process) has --punches journaled and all connect at once')
    .option('--peak', 'morning peak: live punches at the busiest 07:00–07:45 rate of --staff people on --devices kiosks, with dashboard reads')
    .option('--staff <n>', 'staff of the regency for --peak', '3400')
    .option('--peak-seconds <n>', 'how long --peak runs at that rate', '60')
    .option('--db <url>', 'postgres://… : hub workers on PostgreSQL (a fresh database is made on that server for the run and dropped)')
    .option('--workers <list>', 'with --db: hub worker processes sharing the stream, each count measured in this run, e.g. 1,2,3 (default 1)')
    .action(async (o: { devices: string; punches: string; backlog: string; mqttUrl?: string; verifyWorkers?: string; window?: string; storm?: boolean; peak?: boolean; staff: string; peakSeconds: string; db?: string; workers?: string }) => {
      const n = (flag: string, v: string | undefined, min: number) => {
        if (v === undefined) return undefined;
        const x = Number(v);
        if (!Number.isInteger(x) || x < min) throw new UserError(`${flag} ${JSON.stringify(v)} must be an integer >= ${min}`, `e.g. ${flag} 10`);
        return x;
      };
      if (o.db !== undefined || o.workers !== undefined) {
        const { isPostgresUrl } = await import('../hub/store/pg.js');
        if (!isPostgresUrl(o.db)) throw new UserError('--workers and --db measure hub workers on PostgreSQL: --db must be postgres://…', 'e.g. --db postgres://postgres@127.0.0.1:5432/postgres --workers 1,2,3');
        if (o.storm || o.peak) throw new UserError('--storm and --peak run one in-process hub: not with --db/--workers', 'drop one of them');
        const workers = (o.workers ?? '1').split(',').map((w) => n('--workers', w.trim(), 1)!);
        const { runWorkersBench } = await import('../bench/workers-bench.js');
        await runWorkersBench({
          db: o.db, workers, devices: n('--devices', o.devices, 1)!, punchesPerDevice: n('--punches', o.punches, 1)!, mqttUrl: o.mqttUrl,
          window: n('--window', o.window, 1), verifyWorkers: n('--verify-workers', o.verifyWorkers, 0),
        });
        return;
      }
      const { runIngestBench } = await import('../bench/ingest-bench.js');
      await runIngestBench({
        devices: n('--devices', o.devices, 1)!, punchesPerDevice: n('--punches', o.punches, 1)!, backlog: n('--backlog', o.backlog, 1)!,
        mqttUrl: o.mqttUrl, verifyWorkers: n('--verify-workers', o.verifyWorkers, 0), window: n('--window', o.window, 1),
        storm: !!o.storm, peak: !!o.peak, staff: n('--staff', o.staff, 1), peakSeconds: n('--peak-seconds', o.peakSeconds, 1),
      });
    });
}

/** The device, or a one-line error naming the fix. */
async function knownDevice(store: import('../hub/store/core-store.js').CoreStore, id: string) {
  const d = await store.getDevice(id);
  if (!d) throw new UserError(`device ${JSON.stringify(id)} is not registered / perangkat tidak dikenal`, 'check the id with `hadir device list`');
  return d;
}

/** Who runs an administrative command: the login behind sudo, else the current user. */
function operatorName(): string {
  if (process.env.SUDO_USER) return process.env.SUDO_USER;
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** The new password: the first line of standard input, or typed (not echoed) on a terminal. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const ch of process.stdin) chunks.push(ch as Buffer);
    const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
    if (!line) throw new UserError('no password on standard input', 'pipe it in, e.g. `printf %s "$PW" | hadir user passwd NAME`');
    return line;
  }
  const { createInterface } = await import('node:readline');
  const ask = (q: string) =>
    new Promise<string>((res) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      process.stderr.write(q);
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {}; // no echo
      rl.question('', (a) => {
        rl.close();
        process.stderr.write('\n');
        res(a);
      });
    });
  const a = await ask('Kata sandi baru / new password: ');
  const b = await ask('Ulangi / repeat: ');
  if (a !== b) throw new UserError('the two passwords differ', 'run the command again and type the same password twice');
  return a;
}
