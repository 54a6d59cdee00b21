import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';
import { faceConfigSchema, type FaceConfig } from '../kiosk/face/config.js';

/** Commands of the face area: models fetch/verify, enroll face, eval faces/liveness, bench face. */
export function registerFaceCommands(g: Groups): void {
  g.models
    .command('fetch')
    .description('Salin/unduh model wajah ke folder model dan periksa sha256 / copy or download the face models into the model dir and verify them')
    .option('--from <dirOrUrl>', 'folder or http(s) base URL holding the files (default: the pinned source repositories)')
    .option('--dir <dir>', 'model dir (default HADIR_MODEL_DIR, else models/onnx in the repo)')
    .action(async (o: { from?: string; dir?: string }) => {
      const { fetchModels, modelDir } = await import('../models/store.js');
      const dir = modelDir(o.dir);
      process.stdout.write(`Mengambil model wajah ke / fetching face models into ${dir}${o.from ? ` from ${o.from}` : ''}\n`);
      const r = await fetchModels({ from: o.from, dir, progress: (l) => process.stdout.write(`${l}\n`) });
      process.stdout.write(`Selesai / done: ${r.installed.length} installed, ${r.unchanged.length} already present, all verified\n`);
    });

  g.models
    .command('verify')
    .description('Periksa model terpasang (ukuran + sha256) / verify the installed models')
    .option('--dir <dir>', 'model dir (default HADIR_MODEL_DIR, else models/onnx in the repo)')
    .action(async (o: { dir?: string }) => {
      const { verifyModels, modelDir } = await import('../models/store.js');
      const dir = modelDir(o.dir);
      const rows = await verifyModels(dir);
      for (const r of rows) process.stdout.write(`  ${r.state === 'ok' ? 'OK  ' : 'FAIL'} ${r.file.padEnd(44)} ${r.state === 'ok' ? '' : `${r.state}: `}${r.detail}\n`);
      const bad = rows.filter((r) => r.state !== 'ok');
      if (bad.length) throw new UserError(`${bad.length} of ${rows.length} model files in ${dir} are missing or damaged (${bad.map((b) => `${b.file}: ${b.state}`).join(', ')})`, 'run `hadir models fetch --from DIR|URL`');
      process.stdout.write(`Semua model baik / all ${rows.length} models verified in ${dir}\n`);
    });

  g.eval
    .command('faces')
    .description('Akurasi pengenalan wajah pada folder <dir>/<orang>/<n>.jpg / face recognition accuracy on a labelled folder')
    .requiredOption('--dir <dir>', 'folder with one sub-folder of images per person')
    .option('--engine <engine>', 'onnx | faceapi', 'onnx')
    .option('--enrol <n>', 'images enrolled per person (the first ones)', '1')
    .option('--gates', 'apply the kiosk quality gates (rejected images count as not accepted)', false)
    .option('--threshold <cos>', 'override the configured threshold')
    .option('--margin <cos>', 'override the configured margin over the runner-up')
    .option('--verbose', 'list every failed trial', false)
    .action(async (o: { dir: string; engine: string; enrol: string; gates: boolean; threshold?: string; margin?: string; verbose: boolean }) => {
      const engineName = parseEngine(o.engine);
      const cfg = faceDefaults();
      if (o.threshold !== undefined) cfg.match.threshold[engineName] = parseNum(o.threshold, '--threshold');
      if (o.margin !== undefined) cfg.match.margin[engineName] = parseNum(o.margin, '--margin');
      const { createEngine } = await import('../kiosk/face/engines.js');
      const { evalFaces } = await import('../kiosk/face/eval.js');
      const engine = await createEngine(engineName, cfg);
      const out = (l: string) => process.stdout.write(`${l}\n`);
      out(`Evaluasi wajah / face evaluation: ${o.dir}, engine ${engine.name} (${engine.modelId})`);
      const r = await evalFaces(o.dir, engine, cfg, { enrol: Math.max(1, parseInt(o.enrol, 10) || 1), gates: o.gates, log: out });
      await engine.close();
      const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
      out(`detection rate        ${pct(r.detection_rate)} (${r.detected}/${r.images})`);
      out(`rank-1 identification ${pct(r.rank1_rate)} of ${r.genuine_trials} genuine probes`);
      out(`genuine accepted      ${pct(r.genuine_accept_rate)} within ${cfg.match.confirmFrames} frames (threshold ${r.threshold}, margin ${r.margin}); misidentified ${r.misidentifications}`);
      out(`false accepts         ${r.false_accepts} of ${r.impostor_trials} impostor trials (1:1); strangers accepted ${r.stranger_accepts} of ${r.stranger_trials} (1:N, own identity left out)`);
      out(`TAR at FAR 0          ${pct(r.tar_at_far0)} (highest impostor score ${r.max_impostor_score.toFixed(3)})`);
      out(`quality gate would reject: ${JSON.stringify(r.quality_rejects)}${o.gates ? ' (applied)' : ' (not applied)'}`);
      out(`latency per image     p50 ${r.latency_ms_p50.toFixed(1)} ms, p95 ${r.latency_ms_p95.toFixed(1)} ms; ${Object.entries(r.stage_ms).map(([k, v]) => `${k} ${v!.p50.toFixed(1)}/${v!.p95.toFixed(1)}`).join(', ')} (p50/p95 ms)`);
      out(`threshold sweep (1:1): ${r.sweep.map((s) => `${s.threshold}: FAR ${pct(s.far)} FRR ${pct(s.frr)}`).join(' | ')}`);
      if (o.verbose) for (const f of r.failures) out(`  - ${f}`);
      else if (r.failures.length) out(`${r.failures.length} failed trial(s); --verbose lists them`);
      const { sweep: _s, failures: _f, stage_ms, ...rest } = r;
      out(JSON.stringify({ ...rest, stage_ms_p50: Object.fromEntries(Object.entries(stage_ms).map(([k, v]) => [k, +v!.p50.toFixed(2)])) }));
    });

  g.enroll
    .command('face')
    .description('Daftarkan wajah pegawai dari 3–5 foto / enrol a face from 3–5 photos (crops encrypted at rest)')
    .option('--nip <nip>', 'NIP of the staff member (must exist: hadir import staff)')
    .argument('[images...]', '3–5 photos: one person, frontal, well lit')
    .option('--recompute', 're-compute templates from the stored crops (after a model change); with --nip for one person', false)
    .option('--list', 'list face enrolments', false)
    .option('--data <dir>', 'hub data directory (HADIR_DATA_DIR, default ./data)')
    .option('--db <url>', 'hub database (HADIR_DB_URL; default <data>/hub.db)')
    .action(async (images: string[], o: { nip?: string; recompute: boolean; list: boolean; data?: string; db?: string }) => {
      const out = (l: string) => process.stdout.write(`${l}\n`);
      const { resolveHubConfig } = await import('../hub/config.js');
      const { openSqlite } = await import('../hub/store/sqlite.js');
      const { FaceStore, MIN_ENROL, MAX_ENROL } = await import('../hub/biometrics/face-store.js');
      const hubCfg = resolveHubConfig({ dataDir: o.data, dbUrl: o.db });
      if (o.nip !== undefined && !/^[A-Za-z0-9.\-]{1,32}$/.test(o.nip)) throw new UserError(`NIP "${o.nip}" is not valid`, 'use the 18-digit NIP (or the honorer id: letters, digits, . and -)');
      const db = openSqlite(hubCfg.dbPath);
      const store = new FaceStore(db, hubCfg.dataDir);
      try {
        if (o.list) {
          for (const r of store.list(null, o.nip ?? null)) out(`${r.nip}  ${r.name}  ${r.opd}  ${r.crops} crops  ${r.models}  ${r.source}  ${r.enrolledAt}`);
          return;
        }
        if (!o.recompute) {
          if (!o.nip) throw new UserError('--nip is missing', 'hadir enroll face --nip NIP IMAGE…');
          if (images.length < MIN_ENROL || images.length > MAX_ENROL) throw new UserError(`${images.length} image(s) given; ${MIN_ENROL}–${MAX_ENROL} are needed`, 'give 3–5 photos of the person: hadir enroll face --nip NIP a.jpg b.jpg c.jpg');
          store.requireStaff(o.nip);
        }
        const { hubFaceEngines } = await import('../hub/biometrics/face-engines.js');
        const engines = await hubFaceEngines();
        try {
          if (o.recompute) {
            const r = await store.recompute(engines, o.nip);
            out(`Templat dihitung ulang / templates re-computed: ${r.people} orang/people, ${r.crops} crops, models ${r.models.join(', ')}`);
            out('Kiosk menerima templat baru pada sinkronisasi roster berikutnya / kiosks get them with the next roster sync');
            return;
          }
          const { screenEnrolmentImages } = await import('../hub/biometrics/face-enrol.js');
          const cands = await screenEnrolmentImages(images, engines[0]!, faceDefaults());
          for (const c of cands) out(`  ${c.reason ? 'DITOLAK / rejected' : 'OK'}  ${c.file}${c.reason ? ` — ${c.reason}` : ''}`);
          const good = cands.filter((c) => c.crop);
          if (good.length < MIN_ENROL) throw new UserError(`only ${good.length} of ${images.length} images passed the quality checks for NIP ${o.nip}; ${MIN_ENROL} are needed — nothing was stored`, 'replace the rejected photos (reasons above) and run the command again');
          const r = await store.enrol(o.nip!, good.map((c) => c.crop!), engines, { source: 'cli', by: process.env.USER });
          out(`Terdaftar / enrolled: NIP ${o.nip}, ${r.crops} gambar wajah (terenkripsi / encrypted), templates for ${r.models.join(', ')}`);
          out('Kiosk menerima templat pada sinkronisasi roster berikutnya (≤ 60 s bila hub berjalan) / kiosks get the templates with the next roster sync');
        } finally {
          for (const e of engines) await e.close();
        }
      } finally {
        db.close();
      }
    });

}

function parseEngine(s: string): 'onnx' | 'faceapi' {
  if (s !== 'onnx' && s !== 'faceapi') throw new UserError(`unknown engine "${s}"`, 'use --engine onnx or --engine faceapi');
  return s;
}

function parseNum(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isFinite(n)) throw new UserError(`${flag} "${s}" is not a number`, `give ${flag} as a decimal, e.g. 0.4`);
  return n;
}

/** The `face` section defaults of kiosk.json (thresholds chosen on faces-dev). */
function faceDefaults(): FaceConfig {
  return faceConfigSchema.parse({});
}
