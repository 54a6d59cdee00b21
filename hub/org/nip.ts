/**
 * NIP (Nomor Induk Pegawai) of ASN and NI PPPK: 18 digits =
 *   birth date YYYYMMDD · appointment YYYYMM (TMT CPNS; for PPPK the year followed by "21") ·
 *   gender 1 (male) | 2 (female) · sequence 3 digits.
 * Honorer have no NIP: their identifier is free (letters, digits, - . /), 3–30 characters.
 * Returns null when valid, else the reason (English / Indonesian), for the per-line import report.
 */
export type Employment = 'ASN' | 'PPPK' | 'HONORER';

export function nipProblem(nip: string, employment: Employment): string | null {
  if (employment === 'HONORER') {
    return /^[A-Za-z0-9./-]{3,30}$/.test(nip) ? null : 'honorer id must be 3–30 letters, digits, . / - (ID honorer tidak valid)';
  }
  if (!/^\d{18}$/.test(nip)) return `NIP must be 18 digits, got ${nip.length} characters (NIP harus 18 angka)`;
  const by = Number(nip.slice(0, 4));
  const bm = Number(nip.slice(4, 6));
  const bd = Number(nip.slice(6, 8));
  const birth = new Date(Date.UTC(by, bm - 1, bd));
  if (by < 1940 || by > 2010 || birth.getUTCMonth() !== bm - 1 || birth.getUTCDate() !== bd) return `NIP birth date ${nip.slice(0, 8)} is not a plausible date (tanggal lahir di NIP tidak valid)`;
  const ay = Number(nip.slice(8, 12));
  const am = Number(nip.slice(12, 14));
  const pppkMark = employment === 'PPPK' && am === 21;
  if (!pppkMark && (am < 1 || am > 12)) return `NIP appointment month ${nip.slice(12, 14)} is not 01–12${employment === 'PPPK' ? ' or 21 (PPPK)' : ''} (bulan pengangkatan di NIP tidak valid)`;
  const age = ay - by;
  if (age < 18 || age > 60 || ay > 2100) return `NIP appointment year ${ay} is not plausible for birth year ${by} (age ${age} at appointment; tahun pengangkatan tidak wajar)`;
  const g = nip[14];
  if (g !== '1' && g !== '2') return `NIP gender digit is ${g}, must be 1 or 2 (digit jenis kelamin harus 1 atau 2)`;
  return null;
}
