import { describe, expect, it } from 'vitest';

// The dashboard's own modules are plain browser ES modules (no build step); these helpers touch no
// DOM, so they load in Node as they are. Imported by a computed path: they have no type declarations.
const load = async <T>(p: string) => (await import(new URL(`../../hub/web/public/js/${p}`, import.meta.url).href)) as T;

describe('dashboard formats', () => {
  it('rupiah with dot grouping, rounded down; dd/mm/yyyy dates; Indonesian decimal comma', async () => {
    const f = await load<{ rupiah: (n: number) => string; date: (d: string) => string; pct: (n: number) => string; offset: (ms: number) => string }>('fmt.js');
    expect(f.rupiah(4290000)).toBe('Rp 4.290.000');
    expect(f.rupiah(1234567.99)).toBe('Rp 1.234.567');
    expect(f.rupiah(0)).toBe('Rp 0');
    expect(f.rupiah(999)).toBe('Rp 999');
    expect(f.date('2026-10-05')).toBe('05/10/2026');
    expect(f.pct(18.5)).toBe('18,5 %');
    expect(f.offset(-340)).toBe('−340 ms');
    expect(f.offset(1250)).toBe('+1,3 s');
  });

  it('typed dates and times: dd/mm/yyyy [hh:mm], impossible dates refused', async () => {
    const ui = await load<{ parseDate: (s: string) => string | null }>('ui.js');
    expect(ui.parseDate('5/10/2026')).toBe('2026-10-05');
    expect(ui.parseDate(' 05/10/2026 ')).toBe('2026-10-05');
    expect(ui.parseDate('31/02/2026')).toBeNull();
    expect(ui.parseDate('2026-10-05')).toBeNull();
    const a = await load<{ parseDateTime: (s: string) => string | null }>('pages/approvals.js');
    const got = a.parseDateTime('05/10/2026 07:41');
    // the office's zone (WIB by default, the hub's /api/v1/zone in the page), never the browser's
    expect(got).toBe('2026-10-05T07:41:00+07:00');
    const f = await load<{ setZone: (m: number) => void; dateTime: (iso: string) => string }>('fmt.js');
    f.setZone(540);
    expect(a.parseDateTime('05/10/2026 07:41')).toBe('2026-10-05T07:41:00+09:00');
    expect(f.dateTime('2026-10-04T22:41:00.000Z')).toBe('05/10/2026 07:41 WIT');
    f.setZone(420);
    expect(a.parseDateTime('05/10/2026 24:10')).toBeNull();
    expect(a.parseDateTime('05/10/2026')).toBeNull();
  });
});
