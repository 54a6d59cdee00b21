import { EventEmitter } from 'node:events';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FaceSource } from '../../kiosk/face/source.js';
import { DirCamera } from '../../kiosk/camera/dir.js';
import { faceConfigSchema } from '../../face/config.js';
import { FacePipeline } from '../../face/pipeline.js';
import { decodeImage } from '../../face/image.js';
import { encodeVector } from '../../face/vector.js';
import type { KioskBus, RosterView } from '../../kiosk/extension-api.js';
import type { Roster, RosterPerson } from '../../protocol/index.js';
import type { FeedbackEvent, Identification } from '../../kiosk/types.js';
import { childLogger } from '../../lib/logger.js';
import { SPOOF_DEV, onnxEngine, testModelDir, tmp } from './helpers.js';
import { OnnxFaceEngine } from '../../face/onnx-engine.js';

/** A roster holding templates made from the given images (as the hub would make them). */
async function rosterOf(people: Record<string, string[]>): Promise<RosterView> {
  const engine = await onnxEngine();
  const pipe = new FacePipeline(engine, faceConfigSchema.parse({}));
  const list: RosterPerson[] = [];
  for (const [nip, files] of Object.entries(people)) {
    const face = [];
    for (const f of files) {
      const a = await pipe.analyse(await decodeImage(readFileSync(f)), { gates: false });
      face.push({ modelId: engine.modelId, vector: encodeVector(a.vector!) });
    }
    list.push({ nip, name: nip, face });
  }
  await engine.close();
  const roster: Roster = { version: 'v1', site: { code: 'S', name: 'S' }, people: list, fetchedAt: new Date().toISOString() };
  return { current: () => roster, byNip: (n) => list.find((p) => p.nip === n), refresh: async () => roster };
}

/**
 * The FaceSource on a hand-built context (real engine, real dir camera, fake roster): a printed
 * photo of an enrolled person matches but fails liveness, so no identification; the live person
 * is identified once (cooldown), with liveness and a photo.
 */
describe('FaceSource: liveness gate and cooldown', () => {
  let source: FaceSource | null = null;
  afterEach(async () => {
    await source?.stop();
    source = null;
  });

  async function run(frameFile: string, roster: RosterView, frames: number) {
    const dir = tmp('src');
    copyFileSync(frameFile, join(dir, '1.jpg'));
    const bus = new EventEmitter() as KioskBus;
    const feedback: FeedbackEvent[] = [];
    bus.on('feedback', (f) => feedback.push(f));
    const ids: Identification[] = [];
    const config = faceConfigSchema.parse({ engine: 'onnx', threads: 1, loopIntervalMs: 0, messageIntervalMs: 0, cooldownMs: 60_000 });
    source = new FaceSource({
      config,
      camera: new DirCamera({ dir, loop: true, repeat: 1 }),
      createEngine: () => OnnxFaceEngine.create({ dir: testModelDir(), threads: 1 }),
      roster,
      bus,
      log: childLogger('test'),
    });
    await source.start((i) => {
      ids.push(i);
    });
    const t0 = Date.now();
    while (source.frames < frames && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
    return { ids, feedback };
  }

  it('a printed photo of an enrolled person is refused with the liveness message', async () => {
    const print = join(SPOOF_DEV, 'print/1.jpg');
    const { ids, feedback } = await run(print, await rosterOf({ '111': [print] }), 6);
    expect(ids).toEqual([]);
    expect(feedback.some((f) => f.kind === 'unknown' && /tidak terdeteksi hidup/.test(f.reason))).toBe(true);
    expect(source!.state().state).toBe('ok');
  }, 90_000);

  it('the live person is identified once within the cooldown, with score, liveness and a JPEG photo', async () => {
    const live = join(SPOOF_DEV, 'live/1.jpg');
    const { ids } = await run(live, await rosterOf({ '222': [live], '333': [join(SPOOF_DEV, 'replay/1.jpg')] }), 8);
    expect(ids.length).toBe(1);
    const id = ids[0]!;
    expect(id).toMatchObject({ nip: '222', method: 'face' });
    expect(id.score).toBeGreaterThan(0.9);
    expect(id.liveness).toBeGreaterThan(0.9);
    expect(id.photo!.subarray(0, 2).equals(Buffer.from([0xff, 0xd8]))).toBe(true);
    expect(id.photo!.length).toBeLessThan(20_000);
  }, 90_000);
});
