import { closeSync, fchownSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes a file so that a crash leaves either the old or the new content, never half (write, fsync,
 * rename, fsync dir). `owner` is set before the rename, so the file never appears with another owner.
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644, owner?: { uid: number; gid: number }): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
