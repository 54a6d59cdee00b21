import { afterAll, describe, expect, it } from 'vitest';
import { inTransaction, openPostgres } from '../../hub/store/pg.js';
import { privatePostgres, type PgCluster } from '../pg-cluster.js';

/**
 * PostgreSQL restarting under a running hub (found by the fault test, test/hub/fault.test.ts): a
 * pooled connection checked out for a transaction that is between two queries (the attendance
 * derivation computing in JavaScript) gets its connection error as an 'error' event. The pool
 * listens only on idle connections, so without a listener of the hub's the event was unhandled and
 * the whole worker died. Now the transaction fails (and is retried by its caller), the process
 * lives, and the pool serves again once PostgreSQL is back.
 */
let pgc: PgCluster | undefined;
afterAll(async () => {
  await pgc?.stop();
});

describe('PostgreSQL restarts while a hub holds a pooled connection', () => {
  it('the transaction under way fails, the process does not die, and the pool works again', async () => {
    pgc = await privatePostgres();
    const pool = await openPostgres(pgc.url);
    try {
      let restarted = false;
      const held = inTransaction(pool, async (c) => {
        await c.query('SELECT 1');
        // checked out and idle while the server goes down (a crash: immediate) and comes back
        await pgc!.restart('immediate');
        restarted = true;
        await c.query('SELECT 1');
      });
      await expect(held).rejects.toThrow(/terminat|connection|not queryable/i);
      expect(restarted).toBe(true);
      // the broken connection was discarded: every pooled connection answers
      const answers = await Promise.all(Array.from({ length: 5 }, () => pool.query<{ n: number }>('SELECT 1 AS n')));
      expect(answers.map((r) => r.rows[0]!.n)).toEqual([1, 1, 1, 1, 1]);
      expect(await inTransaction(pool, async (c) => (await c.query<{ n: number }>('SELECT 2 AS n')).rows[0]!.n)).toBe(2);
    } finally {
      await pool.end();
    }
  }, 120_000);
});
