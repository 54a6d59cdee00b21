/** Indonesian labels and formats for human outputs (CSV headers, XLSX, PDF, the late list). */

export const STATUS_ID: Record<string, string> = {
  not_employed: 'Belum/tidak bertugas',
  off: 'Libur (bukan hari kerja)',
  holiday: 'Libur nasional / cuti bersama',
  present: 'Hadir',
  late: 'Terlambat',
  early: 'Pulang sebelum waktunya',
  late_early: 'Terlambat dan pulang cepat',
  missing_in: 'Tidak absen masuk',
  missing_out: 'Tidak absen pulang',
  missing_mid: 'Tidak absen siang',
  absent: 'Tanpa keterangan (TK)',
  cuti_tahunan: 'Cuti tahunan',
  cuti_besar: 'Cuti besar',
  cuti_sakit: 'Cuti sakit',
  cuti_melahirkan: 'Cuti melahirkan',
  cuti_alasan_penting: 'Cuti karena alasan penting',
  cltn: 'Cuti di luar tanggungan negara',
  dinas_luar: 'Dinas luar (SPT)',
  tugas_belajar: 'Tugas belajar',
  future: 'Belum berjalan',
};

const MONTHS_ID = ['Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus', 'September', 'Oktober', 'November', 'Desember'];

/** "2026-10" → "Oktober 2026". */
export function monthLabel(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return `${MONTHS_ID[m - 1]} ${y}`;
}
/** "2026-10-05" → "5 Oktober 2026". */
export function dateLabel(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return `${d} ${MONTHS_ID[m - 1]} ${y}`;
}

/** 4290000 → "Rp 4.290.000" (Indonesian grouping; whole rupiah, rounded down). */
export function rupiah(n: number): string {
  const s = Math.floor(n).toString();
  return `Rp ${s.replace(/\B(?=(\d{3})+(?!\d))/g, '.')}`;
}
/** 5.5 → "5,5" (decimal comma). */
export function pct(n: number): string {
  return `${String(Math.round(n * 100) / 100).replace('.', ',')}`;
}
