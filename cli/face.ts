import type { Command } from 'commander';
import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';
import { hubDataOptions, withHub, type HubFlags } from './open-hub.js';
import { faceConfigSchema, type FaceConfig } from '../face/config.js';

/** A face benchmark under `hadir bench` (`face`, `preview`), with the `--image` and `--frames` they share. */
export function faceBenchCommand(bench: Command, name: string, description: string, frames: { help: string; default: string }): Command {
  return bench
    .command(name)
    .description(description)
    .option('--image <file>', 'photo with one face, cut to 640x480 (default ../shared/faces-dev/deepface-df07/1.jpg)')
    .option('--frames <n>', frames.help, frames.default);
}

/** The benchmark photo: `--image`, else the development set's; a missing file is a one-line error. */
export async function benchImage(image: string | undefined): Promise<string> {
  const { fileURLToPath } = await import('node:url');
  const { existsSync } = await import('node:fs');
  const file = image ?? fileURLToPath(new URL('../../shared/faces-dev/deepface-df07/1.jpg', import.meta.url));
  if (!existsSync(file)) throw new UserError(`bench image ${file} not found`, 'give --image PHOTO.jpg with one face');
  return file;
}

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
    .description('Akurasi pengenalan wajah pada folder <dir>/<orang>/<n>.jpg / face recognition accuracy on a labelled folder (1:1, 1:N per gallery size, FMR with 95 % bound)')
    .requiredOption('--dir <dir>', 'folder with one sub-folder of images per person')
    .option('--engine <engine>', 'onnx | faceapi', 'onnx')
    .option('--gates', 'apply the kiosk quality gates (rejected images count as not accepted)', false)
    .option('--pad <dirs>', 'comma-separated folders of other identities that pad the 1:N galleries (default: the other ../shared/faces-dev* sets; "none")')
    .option('--galleries <list>', 'gallery sizes for 1:N', '10,100,1000')
    .option('--threshold <cos>', 'override the configured 1:N threshold')
    .option('--margin <cos>', 'override the configured margin over the runner-up')
    .option('--compare', 'also measure the decision options side by side (enrolment, templates, flip, normalisation, speed)', false)
    .option('--kiosk', 'also make kiosk-like 640x480 frames (blur, noise, dim, JPEG) and report what each quality gate costs', false)
    .option('--no-cache', 'do not read or write the embedding cache ($HADIR_FACE_CACHE or <tmp>/hadir-face-cache)')
    .option('--verbose', 'list every failed trial', false)
    .action(async (o: { dir: string; engine: string; gates: boolean; pad?: string; galleries: string; threshold?: string; margin?: string; compare: boolean; kiosk: boolean; cache: boolean; verbose: boolean }) => {
      const engineName = parseEngine(o.engine);
      const cfg = faceDefaults();
      if (o.threshold !== undefined) cfg.match.threshold[engineName] = parseNum(o.threshold, '--threshold');
      if (o.margin !== undefined) cfg.match.margin[engineName] = parseNum(o.margin, '--margin');
      const galleries = o.galleries.split(',').map((x) => parseInt(x, 10));
      if (galleries.some((g) => !Number.isInteger(g) || g < 2 || g > 100_000)) throw new UserError(`--galleries "${o.galleries}" is not a list of sizes`, 'give e.g. --galleries 10,100,1000');
      const { listIdentities } = await import('../face/dataset.js');
      const { resolve, dirname, join } = await import('node:path');
      const { existsSync, readdirSync } = await import('node:fs');
      listIdentities(o.dir); // a wrong folder is reported before the models load
      let pad: string[];
      if (o.pad === 'none') pad = [];
      else if (o.pad) pad = o.pad.split(',').filter(Boolean);
      else {
        const { fileURLToPath } = await import('node:url');
        const shared = fileURLToPath(new URL('../../shared', import.meta.url));
        pad = existsSync(shared) ? readdirSync(shared).filter((n) => /^faces-dev/.test(n)).map((n) => join(shared, n)).filter((p) => resolve(p) !== resolve(o.dir)) : [];
      }
      for (const p of pad) listIdentities(p);
      const { createEngine } = await import('../face/engines.js');
      const { evalFaces } = await import('../face/eval.js');
      const { defaultCacheDir } = await import('../face/embed-cache.js');
      const engine = await createEngine(engineName, cfg);
      const out = (l: string) => process.stdout.write(`${l}\n`);
      const cacheDir = o.cache ? defaultCacheDir() : null;
      out(`Evaluasi wajah / face evaluation: ${o.dir}, engine ${engine.name} (${engine.modelId}); padding: ${pad.map((p) => dirname(p) === dirname(resolve(o.dir)) ? p.split('/').pop() : p).join(', ') || 'synthetic only'}; cache: ${cacheDir ?? 'off'}`);
      const r = await evalFaces(o.dir, engine, cfg, { gates: o.gates, pad, gallerySizes: galleries, cacheDir, log: o.verbose ? out : undefined });
      const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
      const sci = (x: number) => x.toExponential(1);
      out(`detection rate        ${pct(r.detection_rate)} (${r.detected}/${r.images})`);
      out(`enrolment             ${r.enrolment}; person score = ${r.template} template; ${r.confirm_frames} frames must agree`);
      out(`rank-1 identification ${pct(r.rank1_rate)} of ${r.genuine_trials} genuine probes (1:N, ${r.identities} people)`);
      out(`genuine accepted      ${pct(r.genuine_accept_rate)} within ${r.confirm_frames} frames (1:N threshold ${r.threshold}, margin ${r.margin}); misidentified ${r.misidentifications}`);
      out(`strangers accepted    ${r.stranger_accepts} of ${r.stranger_trials} (1:N, own identity left out); FMR ≤ ${sci(r.stranger_fmr_upper95)} (95 %)`);
      out(`false accepts 1:1     ${r.false_accepts} of ${r.impostor_trials} impostor trials at ${decisionThreshold(r)} → FMR ${sci(r.fmr)}, ≤ ${sci(r.fmr_upper95)} (95 %${r.false_accepts === 0 ? ', rule of 3' : ''})`);
      out(`NIP 1:1 (verify)      threshold ${r.verify_threshold}: genuine ${pct(r.verify_accept_rate)}, false accepts ${r.verify_false_accepts} (FMR ≤ ${sci(r.verify_fmr_upper95)})`);
      out(`TAR at FAR 0          ${pct(r.tar_at_far0)} (highest impostor score ${r.max_impostor_score.toFixed(3)}); impostor tail fit: FMR 1e-4 at ${r.tail_threshold.fmr_1e4}, 1e-5 at ${r.tail_threshold.fmr_1e5}`);
      for (const g of r.galleries) {
        out(`1:N ${String(g.people).padStart(5)} people    threshold ${g.threshold}: genuine ${pct(g.genuine_accept_rate)}, misidentified ${g.misidentifications}, strangers ${g.stranger_accepts}/${g.stranger_trials} (FMR ≤ ${sci(g.stranger_fmr_upper95)}); ${g.real_people} real + ${g.synthetic_people} synthetic; decision ${g.decision_ms_p50.toFixed(3)} ms${g.one_to_n_off ? `; 1:N OFF (${g.one_to_n_off}): NIP 1:1 only` : ''}`);
      }
      if (r.synthetic_check) out(`synthetic padding     impostor score mean ${r.synthetic_check.synthetic_mean} sd ${r.synthetic_check.synthetic_sd} vs real ${r.synthetic_check.real_impostor_mean} sd ${r.synthetic_check.real_impostor_sd}`);
      out(`quality gates would reject (photos, not applied unless --gates): ${JSON.stringify(r.quality_rejects)}`);
      out(`latency per image     p50 ${r.latency_ms_p50.toFixed(1)} ms, p95 ${r.latency_ms_p95.toFixed(1)} ms; ${Object.entries(r.stage_ms).map(([k, v]) => `${k} ${v!.p50.toFixed(1)}/${v!.p95.toFixed(1)}`).join(', ')} (p50/p95 ms, measured when first computed; cache ${r.cache.hits} hits, ${r.cache.misses} computed)`);
      out(`threshold sweep (1:1): ${r.sweep.map((s) => `${s.threshold}: FAR ${pct(s.far)} FRR ${pct(s.frr)}`).join(' | ')}`);
      let extra: Record<string, unknown> = {};
      if (o.compare) {
        const { compareOptions } = await import('../face/eval-options.js');
        const c = await compareOptions(o.dir, pad, engine, cfg, { cacheDir, log: out });
        extra = { options: c };
      }
      if (o.kiosk) {
        const { gateCosts } = await import('../face/eval-options.js');
        const k = await gateCosts(o.dir, engine, cfg, { cacheDir, log: out });
        extra = { ...extra, gates: k };
      }
      await engine.close();
      if (o.verbose) for (const f of r.failures) out(`  - ${f}`);
      else if (r.failures.length) out(`${r.failures.length} failed trial(s); --verbose lists them`);
      const { sweep: _s, failures: _f, stage_ms, ...rest } = r;
      out(JSON.stringify({ ...rest, stage_ms_p50: Object.fromEntries(Object.entries(stage_ms).map(([k, v]) => [k, +v!.p50.toFixed(2)])), ...extra }));
    });

  hubDataOptions(
    g.enroll
      .command('face')
      .description('Daftarkan wajah pegawai dari 3–5 foto / enrol a face from 3–5 photos (crops encrypted at rest)')
      .option('--nip <nip>', 'NIP of the staff member (must exist: hadir import staff)')
      .argument('[images...]', '3–10 photos: one person, frontal, well lit; the best 5 by quality and spread are kept')
      .option('--recompute', 're-compute templates from the stored crops (after a model change); with --nip for one person', false)
      .option('--list', 'list face enrolments', false),
  ).action(async (images: string[], o: HubFlags & { nip?: string; recompute: boolean; list: boolean }) => {
    const out = (l: string) => process.stdout.write(`${l}\n`);
    const { FaceStore } = await import('../hub/biometrics/face-store.js');
    const { nipSchema, MIN_ENROL, MAX_ENROL } = await import('../protocol/index.js');
    if (o.nip !== undefined && !nipSchema.safeParse(o.nip).success) throw new UserError(`NIP "${o.nip}" is not valid`, 'use the 18-digit NIP (or the honorer id: letters, digits, . and -)');
    await withHub(o, async ({ db, config, clock }) => {
      const store = new FaceStore(db, config.dataDir, clock);
      if (o.list) {
        for (const r of await store.list(null, o.nip ?? null)) out(`${r.nip}  ${r.name}  ${r.opd}  ${r.crops} crops  ${r.models}  ${r.source}  ${r.enrolledAt}`);
        return;
      }
      if (!o.recompute) {
        if (!o.nip) throw new UserError('--nip is missing', 'hadir enroll face --nip NIP IMAGE…');
        if (images.length < MIN_ENROL || images.length > 2 * MAX_ENROL) throw new UserError(`${images.length} image(s) given; ${MIN_ENROL}–${2 * MAX_ENROL} are needed`, 'give 3–10 photos of the person (the best 5 are kept): hadir enroll face --nip NIP a.jpg b.jpg c.jpg');
        await store.requireStaff(o.nip);
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
        const cands = await screenEnrolmentImages(images, engines[0]!, faceDefaults(), MAX_ENROL);
        for (const c of cands) out(`  ${c.reason ? 'DITOLAK / rejected' : 'OK'}  ${c.file}${c.reason ? ` — ${c.reason}` : ''}`);
        const good = cands.filter((c) => c.crop);
        if (good.length < MIN_ENROL) throw new UserError(`only ${good.length} of ${images.length} images passed the quality checks for NIP ${o.nip}; ${MIN_ENROL} are needed — nothing was stored`, 'replace the rejected photos (reasons above) and run the command again');
        const r = await store.enrol(o.nip!, good.map((c) => c.crop!), engines, { source: 'cli', by: process.env.USER });
        out(`Terdaftar / enrolled: NIP ${o.nip}, ${r.crops} gambar wajah (terenkripsi / encrypted), templates for ${r.models.join(', ')}`);
        out('Kiosk menerima templat pada sinkronisasi roster berikutnya (≤ 60 s bila hub berjalan) / kiosks get the templates with the next roster sync');
      } finally {
        for (const e of engines) await e.close();
      }
    });
  });


  g.eval
    .command('liveness')
    .description('Uji deteksi kehidupan / liveness on <dir>/live|print|replay/*.jpg: live accepted, attacks rejected')
    .requiredOption('--dir <dir>', 'folder with sub-folders live/ and attack kinds (print/, replay/, …)')
    .option('--threshold <p>', 'override the configured live threshold')
    .action(async (o: { dir: string; threshold?: string }) => {
      const out = (l: string) => process.stdout.write(`${l}\n`);
      const cfg = faceDefaults();
      if (o.threshold !== undefined) cfg.liveness.threshold = parseNum(o.threshold, '--threshold');
      const { OnnxFaceEngine } = await import('../face/onnx-engine.js');
      const { listImages } = await import('../face/dataset.js');
      const { decodeImage } = await import('../face/image.js');
      const { chooseFace } = await import('../face/quality.js');
      const { readdirSync, statSync, readFileSync } = await import('node:fs');
      const { join, basename } = await import('node:path');
      let kinds: string[];
      try {
        kinds = readdirSync(o.dir).filter((k) => statSync(join(o.dir, k)).isDirectory()).sort();
      } catch {
        throw new UserError(`${o.dir} is not a folder`, 'give a folder with live/ and attack sub-folders (print/, replay/)');
      }
      if (!kinds.includes('live') || kinds.length < 2) throw new UserError(`${o.dir} needs a live/ folder and at least one attack folder (print/, replay/); found: ${kinds.join(', ') || 'none'}`, 'arrange the images as <dir>/live/*.jpg, <dir>/print/*.jpg, <dir>/replay/*.jpg');
      const engine = await OnnxFaceEngine.create({ threads: cfg.threads });
      const thr = cfg.liveness.threshold;
      out(`Evaluasi liveness / liveness evaluation: ${o.dir}, MiniFASNet V2 + V1SE, live threshold ${thr}`);
      let live = 0, liveOk = 0, attack = 0, attackRejected = 0, noFace = 0;
      const ms: number[] = [];
      const scores: Record<string, number[]> = {};
      for (const kind of kinds) {
        for (const f of listImages(join(o.dir, kind))) {
          const img = await decodeImage(readFileSync(f));
          const face = chooseFace(await engine.detect(img), img.width, img.height);
          const isLive = kind === 'live';
          if (!face) {
            noFace++;
            out(`  ${kind}/${basename(f)}: no face`);
            continue;
          }
          const t = performance.now();
          const p = await engine.liveness(img, face);
          ms.push(performance.now() - t);
          (scores[kind] ??= []).push(+p.toFixed(4));
          const accepted = p >= thr;
          if (isLive) (live++, accepted && liveOk++);
          else (attack++, !accepted && attackRejected++);
          out(`  ${kind}/${basename(f)}: live ${p.toFixed(3)} → ${accepted ? 'DITERIMA / accepted' : 'DITOLAK / rejected'}${accepted === isLive ? '' : '  ← WRONG'}`);
        }
      }
      await engine.close();
      const { percentile } = await import('../face/dataset.js');
      out(`live accepted ${liveOk}/${live}, attacks rejected ${attackRejected}/${attack}, no face ${noFace}; liveness p50 ${percentile(ms, 50).toFixed(1)} ms (both models)`);
      out(JSON.stringify({ live_total: live, live_accepted: liveOk, attack_total: attack, attacks_rejected: attackRejected, bpcer: live ? (live - liveOk) / live : null, apcer: attack ? (attack - attackRejected) / attack : null, no_face: noFace, threshold: thr, scores, liveness_ms_p50: +percentile(ms, 50).toFixed(2) }));
    });

  faceBenchCommand(g.bench, 'face', 'Latensi per frame 640x480 / per-frame latency: ONNX vs face-api pipeline, 1:N search over 10,000 templates, RSS', {
    help: 'timed ONNX frames',
    default: '50',
  })
    .option('--faceapi-frames <n>', 'timed face-api frames (slow)', '10')
    .option('--no-faceapi', 'skip the face-api engine')
    .option('--threads <n>', 'onnxruntime threads per model (default: the face.threads config default)')
    .action(async (o: { image?: string; frames: string; faceapiFrames: string; faceapi: boolean; threads?: string }) => {
      const out = (l: string) => process.stdout.write(`${l}\n`);
      const image = await benchImage(o.image);
      const b = await import('../face/bench.js');
      const cfg = faceDefaults();
      if (o.threads !== undefined) cfg.threads = Math.min(8, Math.max(1, parseInt(o.threads, 10) || 1));
      const n = Math.max(5, parseInt(o.frames, 10) || 50);
      const nf = Math.max(2, parseInt(o.faceapiFrames, 10) || 10);
      const frame = await b.benchFrame(image);
      const jpegjs = (await import('jpeg-js')).default;
      const { decodeImage } = await import('../face/image.js');
      const dSharp = await b.timeIt(30, 3, () => decodeImage(frame.jpeg));
      const dJpegjs = await b.timeIt(30, 3, () => jpegjs.decode(frame.jpeg, { useTArray: true }));
      out(`decode 640x480 JPEG: sharp p50 ${b.p50(dSharp).toFixed(2)} ms, jpeg-js p50 ${b.p50(dJpegjs).toFixed(2)} ms`);

      const { OnnxFaceEngine } = await import('../face/onnx-engine.js');
      const onnx = await OnnxFaceEngine.create({ threads: cfg.threads, detectMaxSide: cfg.detectMaxSide });
      const idx = b.randomIndex(onnx.modelId, onnx.dims, 10_000);
      const q = new Float32Array(onnx.dims).fill(1 / Math.sqrt(onnx.dims));
      const search = await b.timeIt(200, 20, () => idx.search(q));
      out(`1:N search over ${idx.size} templates (${idx.people} people): p50 ${b.p50(search).toFixed(3)} ms, p95 ${b.p95(search).toFixed(3)} ms`);
      const r1 = await b.benchPipeline(onnx, cfg, frame.image, idx, n, 3);
      const rss = process.memoryUsage().rss / 2 ** 20;
      out(`ONNX pipeline (detect+align+embed+search 10k+liveness), ${r1.faces} face(s), ${n} frames: p50 ${b.p50(r1.total).toFixed(1)} ms, p95 ${b.p95(r1.total).toFixed(1)} ms`);
      out(`  stages p50: ${Object.entries(r1.stages).map(([k, v]) => `${k} ${b.p50(v).toFixed(2)}`).join(', ')} ms; CPU ${r1.cpuMsPerFrame.toFixed(1)} ms/frame; RSS with ONNX models loaded ${rss.toFixed(0)} MB`);
      await onnx.close();
      let faceapiP50: number | null = null;
      let faceapiCpu: number | null = null;
      if (o.faceapi) {
        const { FaceApiEngine } = await import('../face/faceapi-engine.js');
        const fa = await FaceApiEngine.create();
        const idx2 = b.randomIndex(fa.modelId, fa.dims, 10_000);
        const r2 = await b.benchPipeline(fa, cfg, frame.image, idx2, nf, 1);
        faceapiP50 = b.p50(r2.total);
        faceapiCpu = r2.cpuMsPerFrame;
        out(`face-api pipeline (detect+landmarks+align+embed+search 10k, WASM), ${r2.faces} face(s), ${nf} frames: p50 ${faceapiP50.toFixed(1)} ms, p95 ${b.p95(r2.total).toFixed(1)} ms`);
        out(`  stages p50: ${Object.entries(r2.stages).map(([k, v]) => `${k} ${b.p50(v).toFixed(2)}`).join(', ')} ms; CPU ${r2.cpuMsPerFrame.toFixed(1)} ms/frame`);
      }
      const onnxP50 = b.p50(r1.total);
      if (faceapiP50 !== null) out(`speedup ONNX vs face-api: ${(faceapiP50 / onnxP50).toFixed(1)}x wall, ${(faceapiCpu! / r1.cpuMsPerFrame).toFixed(1)}x CPU`);
      out('(numbers on a shared, loaded machine are noisy; measure on the kiosk itself)');
      out(JSON.stringify({
        onnx_p50_ms: +onnxP50.toFixed(2), onnx_p95_ms: +b.p95(r1.total).toFixed(2),
        faceapi_p50_ms: faceapiP50 === null ? null : +faceapiP50.toFixed(2),
        speedup: faceapiP50 === null ? null : +(faceapiP50 / onnxP50).toFixed(2),
        search_10k_ms: +b.p50(search).toFixed(3), rss_mb: Math.round(rss),
        onnx_cpu_ms_per_frame: +r1.cpuMsPerFrame.toFixed(2), faceapi_cpu_ms_per_frame: faceapiCpu === null ? null : +faceapiCpu.toFixed(2),
        speedup_cpu: faceapiCpu === null ? null : +(faceapiCpu / r1.cpuMsPerFrame).toFixed(2),
        load_avg_1m: +(await import('node:os')).loadavg()[0]!.toFixed(2),
        decode_sharp_ms: +b.p50(dSharp).toFixed(2), decode_jpegjs_ms: +b.p50(dJpegjs).toFixed(2),
        onnx_stage_p50_ms: Object.fromEntries(Object.entries(r1.stages).map(([k, v]) => [k, +b.p50(v).toFixed(2)])),
        threads: cfg.threads,
      }));
    });

}

function decisionThreshold(r: { threshold: number }): string {
  return `the 1:N threshold ${r.threshold}`;
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
