import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, isErrno } from '../lib/errors.js';

const IMAGE_RE = /\.(jpe?g|png|webp)$/i;

/** Image files of a folder in natural name order (1.jpg, 2.jpg, …, 10.jpg). */
export function listImages(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw new UserError(`${dir} is not a folder`, 'give a folder of .jpg/.png images');
    throw e;
  }
  return names.filter((n) => IMAGE_RE.test(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((n) => join(dir, n));
}

/** `<dir>/<identity>/<n>.jpg` → identities in name order, each with its images. */
export function listIdentities(dir: string): { id: string; images: string[] }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw new UserError(`${dir} is not a folder`, 'give a folder with one sub-folder of images per person');
    throw e;
  }
  const out = names
    .filter((n) => statSync(join(dir, n)).isDirectory())
    .sort()
    .map((id) => ({ id, images: listImages(join(dir, id)) }))
    .filter((x) => x.images.length > 0);
  if (out.length < 2) throw new UserError(`${dir} holds ${out.length} identity folder(s) with images`, 'the layout is <dir>/<person>/<n>.jpg with at least 2 persons');
  return out;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}
