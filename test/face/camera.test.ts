import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirCamera } from '../../kiosk/camera/dir.js';
import { MjpegSplitter } from '../../kiosk/camera/mjpeg.js';
import { StreamCamera } from '../../kiosk/camera/stream.js';
import { createCamera, isCameraError } from '../../kiosk/camera/index.js';
import { cameraConfigSchema } from '../../face/config.js';
import { FACES_DEV, SHARED, tmp } from './helpers.js';

function folder(files: [string, string][]): string {
  const d = tmp('cam');
  for (const [from, to] of files) copyFileSync(join(SHARED, from), join(d, to));
  return d;
}

describe('dir camera', () => {
  it('returns frames in natural name order, each `repeat` times, then loops', async () => {
    const d = folder([
      ['faces-dev/faceapi-amy/1.jpg', '2.jpg'],
      ['faces-dev/faceapi-penny/1.jpg', '10.jpg'],
      ['faces-dev/ageitgey-obama/1.jpg', '1.jpg'],
    ]);
    writeFileSync(join(d, 'notes.txt'), 'ignored');
    const cam = new DirCamera({ dir: d, loop: true, repeat: 2 });
    await cam.open();
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const img = await cam.capture();
      seen.push(`${cam.currentFile!.split('/').pop()}:${img.width}`);
    }
    expect(seen).toEqual(['1.jpg:910', '1.jpg:910', '2.jpg:150', '2.jpg:150', '10.jpg:150', '10.jpg:150', '1.jpg:910', '1.jpg:910']);
  });

  it('ends with a permanent CameraError when not looping; a missing folder is a clear error', async () => {
    const cam = new DirCamera({ dir: folder([['faces-dev/faceapi-amy/1.jpg', 'a.jpg']]), loop: false, repeat: 1 });
    await cam.open();
    await cam.capture();
    const e = await cam.capture().catch((x: unknown) => x);
    expect(isCameraError(e) && e.permanent).toBe(true);
    const missing = await new DirCamera({ dir: '/nonexistent/frames', loop: true, repeat: 1 }).open().catch((x: unknown) => x);
    expect((missing as Error).message).toMatch(/folder kamera .* tidak ada/);
    expect(() => createCamera(cameraConfigSchema.parse({ driver: 'dir' }))).toThrow(/face\.camera\.dir/);
    expect(createCamera(cameraConfigSchema.parse({ driver: 'webcam', dir: FACES_DEV }), { simulate: true }).driver).toBe('dir');
  });
});

describe('MJPEG stream', () => {
  const jpegA = Buffer.from([0xff, 0xd8, 1, 2, 0xff, 0x00, 3, 0xff, 0xd9]);
  const jpegB = Buffer.from([0xff, 0xd8, 9, 0xff, 0xd0, 8, 0xff, 0xd9]);

  it('splits concatenated JPEGs however the chunks fall', () => {
    const stream = Buffer.concat([Buffer.from([7, 7]), jpegA, jpegB, jpegA]);
    for (let cut = 1; cut < stream.length; cut++) {
      const s = new MjpegSplitter();
      const frames = [...s.push(stream.subarray(0, cut)), ...s.push(stream.subarray(cut))];
      expect(frames.map((f) => f.toString('hex'))).toEqual([jpegA, jpegB, jpegA].map((f) => f.toString('hex')));
    }
    const s = new MjpegSplitter();
    const byByte = [...stream].flatMap((b) => s.push(Buffer.from([b])));
    expect(byByte.length).toBe(3);
  });

  it('reads frames from a real child process and reports its death as a camera fault', async () => {
    // a child process that writes a real JPEG three times to stdout, then exits
    const file = join(FACES_DEV, 'faceapi-amy/1.jpg');
    const script = `const b=require('fs').readFileSync(${JSON.stringify(file)});let n=0;const t=setInterval(()=>{process.stdout.write(b);if(++n===3){clearInterval(t);setTimeout(()=>process.exit(3),50)}},30);`;
    const cam = new StreamCamera('test', process.execPath, ['-e', script], 'test stream', 5000);
    await cam.open();
    const img = await cam.capture();
    expect([img.width, img.height]).toEqual([150, 150]);
    let err: unknown = null;
    for (let i = 0; i < 5 && !err; i++) err = await cam.capture().then(() => null, (e: unknown) => e);
    expect(isCameraError(err)).toBe(true);
    expect((err as Error).message).toMatch(/exited \(3\)/);
    await cam.close();
    const none = new StreamCamera('ffmpeg', '/nonexistent/ffmpeg', [], 'x', 2000);
    const e2 = await none.capture().catch((e: unknown) => e);
    expect((e2 as Error).message).toMatch(/tidak terpasang \/ not installed/);
  });

  it('times out a source that sends nothing', async () => {
    const cam = new StreamCamera('test', process.execPath, ['-e', 'setTimeout(()=>{}, 10000)'], 'silent', 300);
    const e = await cam.capture().catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/no frame within 0.3 s/);
    await cam.close();
  });
});
