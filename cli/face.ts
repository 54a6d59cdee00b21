import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';

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
}
