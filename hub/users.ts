import { z } from 'zod';
import { UserError } from '../lib/errors.js';
import type { Role } from './module.js';
import type { CoreStore } from './store/core-store.js';
import { randomSecret, sha256Hex } from './secrets.js';

const usernameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'username: 2–64 of a-z 0-9 . _ -');

/** Creates a hub user and its first API token (printed once; only its sha256 is stored). */
export async function addUser(
  store: CoreStore,
  o: { username: string; name: string; role: Role; opdCode?: string | null; now: Date },
): Promise<{ token: string }> {
  if (!usernameSchema.safeParse(o.username).success) throw new UserError(`username ${JSON.stringify(o.username)} is not valid`, 'use 2–64 characters a-z 0-9 . _ -');
  if (!['bkpsdm', 'opd_admin'].includes(o.role)) throw new UserError(`role ${JSON.stringify(o.role)} is not valid`, 'use --role bkpsdm or --role opd_admin');
  if (o.role === 'opd_admin' && !o.opdCode) throw new UserError('an opd_admin needs --opd CODE', 'add --opd with the OPD code');
  if (o.role === 'bkpsdm' && o.opdCode) throw new UserError('a bkpsdm user sees the whole regency and takes no --opd', 'drop --opd or use --role opd_admin');
  if (o.opdCode && !(await store.opdExists(o.opdCode))) throw new UserError(`OPD ${o.opdCode} does not exist`, 'import the organisation first: `hadir import org FILE.csv`');
  if (await store.getUser(o.username)) throw new UserError(`user ${o.username} already exists`, 'choose another --username');
  const at = o.now.toISOString();
  await store.insertUser({ username: o.username, name: o.name, role: o.role, opdCode: o.opdCode ?? null, createdAt: at });
  const token = `hdr_${randomSecret(32)}`;
  await store.insertApiToken({ tokenHash: sha256Hex(token), username: o.username, label: 'created by hadir user add', createdAt: at });
  return { token };
}
