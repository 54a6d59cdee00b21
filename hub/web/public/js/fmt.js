import { lang } from './i18n.js';

const group = (s) => s.replace(/\B(?=(\d{3})+(?!\d))/g, '.');

/** 4290000 → "Rp 4.290.000" (whole rupiah, rounded down like the report). */
export function rupiah(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  const v = Math.floor(n);
  return `${v < 0 ? '−' : ''}Rp ${group(String(Math.abs(v)))}`;
}

/** 5.5 → "5,5 %" (Indonesian) / "5.5 %" (English). */
export function pct(n) {
  if (n === null || n === undefined) return '–';
  const s = String(Math.round(n * 100) / 100);
  return `${lang() === 'id' ? s.replace('.', ',') : s} %`;
}

export function num(n) {
  if (n === null || n === undefined) return '–';
  return lang() === 'id' ? group(String(n)) : String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const pad = (n) => String(n).padStart(2, '0');

/** "2026-10-05" → "05/10/2026". */
export function date(d) {
  if (!d) return '–';
  const [y, m, day] = d.slice(0, 10).split('-');
  return `${day}/${m}/${y}`;
}

/**
 * The office zone: the hub's (GET /api/v1/zone at start-up), NOT the browser's — an admin in
 * Jakarta looking at a Jayapura regency, or a laptop left on UTC, must see the office's hours.
 * Indonesia has no daylight saving, so a fixed offset is exact.
 */
const ZONES = { 420: 'WIB', 480: 'WITA', 540: 'WIT' };
let zone = { offsetMin: 420, name: 'WIB' };
export function setZone(offsetMin) {
  zone = { offsetMin, name: ZONES[offsetMin] ?? `UTC${offsetMin >= 0 ? '+' : '−'}${Math.abs(offsetMin) / 60}` };
}
export function zoneName() {
  return zone.name;
}
export function zoneOffsetMin() {
  return zone.offsetMin;
}
/** The office's wall clock of an instant, as a Date whose UTC fields read local time. */
function wall(t) {
  return new Date(t.getTime() + zone.offsetMin * 60_000);
}

/** UTC ISO instant → "05/10/2026 07:31 WIB" in the office zone. */
export function dateTime(iso) {
  if (!iso) return '–';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const w = wall(t);
  return `${pad(w.getUTCDate())}/${pad(w.getUTCMonth() + 1)}/${w.getUTCFullYear()} ${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())} ${zone.name}`;
}

/** UTC ISO instant → "07:31 WIB" in the office zone. */
export function time(iso) {
  if (!iso) return '–';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const w = wall(t);
  return `${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())} ${zone.name}`;
}

/** The office's calendar date YYYY-MM-DD of an instant (default now). */
export function isoDate(t = new Date()) {
  const w = wall(t);
  return `${w.getUTCFullYear()}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}`;
}
export function isoMonth(t = new Date()) {
  return isoDate(t).slice(0, 7);
}
/** Start of the office's day of `t` as a UTC ISO instant (for "today's punches"). */
export function startOfDay(t = new Date()) {
  return new Date(Date.parse(`${isoDate(t)}T00:00:00Z`) - zone.offsetMin * 60_000).toISOString();
}
/** "dd/mm/yyyy hh:mm" typed in the office zone → ISO with the office's offset. */
export function officeInstant(y, mo, d, hh, mm) {
  const o = zone.offsetMin;
  return `${y}-${pad(mo)}-${pad(d)}T${pad(hh)}:${pad(mm)}:00${o >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(o) / 60))}:${pad(Math.abs(o) % 60)}`;
}

const MONTHS = {
  id: ['Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus', 'September', 'Oktober', 'November', 'Desember'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};
/** "2026-10" → "Oktober 2026". */
export function monthLabel(m) {
  const [y, mm] = m.split('-').map(Number);
  return `${MONTHS[lang()][mm - 1]} ${y}`;
}

/** Age of an instant, short: "baru saja", "5 mnt lalu", "3 jam lalu", "2 hari lalu". */
export function ago(iso, now = Date.now()) {
  if (!iso) return '–';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const en = lang() === 'en';
  if (s < 60) return en ? 'just now' : 'baru saja';
  if (s < 3600) return en ? `${Math.floor(s / 60)} min ago` : `${Math.floor(s / 60)} mnt lalu`;
  if (s < 86400) return en ? `${Math.floor(s / 3600)} h ago` : `${Math.floor(s / 3600)} jam lalu`;
  return en ? `${Math.floor(s / 86400)} d ago` : `${Math.floor(s / 86400)} hari lalu`;
}

/** Milliseconds → "+1,2 s" / "−340 ms". */
export function offset(ms) {
  if (ms === null || ms === undefined) return '–';
  const sign = ms > 0 ? '+' : ms < 0 ? '−' : '';
  const a = Math.abs(ms);
  const s = a >= 1000 ? `${(Math.round(a / 100) / 10).toString()} s` : `${Math.round(a)} ms`;
  return sign + (lang() === 'id' ? s.replace('.', ',') : s);
}
