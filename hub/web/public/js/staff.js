/**
 * "Presensi Saya": a staff member's own page, phone first, Bahasa Indonesia. Sign-in with NIP +
 * the one-time activation code from the OPD (first time: choose a password), then NIP + password.
 * Shows the month's days with their status, every punch with its photo, the TPP with every rupiah
 * of the deduction and the Perbup line behind it, and a keberatan (correction request) form.
 */
import { h, fill } from './dom.js';
import { hubRequest, localMessage } from './api.js';
import { date, dateTime, isoMonth, monthLabel, pct, rupiah, setZone, time } from './fmt.js';

const KEY = 'hadir.staff';
const root = document.getElementById('app');
let token = localStorage.getItem(KEY);

/** The hub's API with the staff token (api.js hubRequest); this page speaks Indonesian. */
function call(path, { method = 'GET', body, query } = {}) {
  const signingIn = path.startsWith('/saya/login') || path.startsWith('/saya/activate');
  const forget = () => {
    localStorage.removeItem(KEY);
    token = null;
  };
  return hubRequest(path, { method, body, query, token, language: 'id', onUnauthorized: signingIn ? undefined : forget });
}
const json = async (path, opts) => (await call(path, opts)).json();

const STATUS = {
  present: 'Hadir', late: 'Terlambat', early: 'Pulang cepat', late_early: 'Terlambat dan pulang cepat', missing_in: 'Tidak absen masuk',
  missing_out: 'Tidak absen pulang', missing_mid: 'Tidak absen siang', absent: 'Tanpa keterangan', off: 'Libur', holiday: 'Libur nasional',
  not_employed: 'Belum bertugas', future: 'Belum terjadi', cuti_tahunan: 'Cuti tahunan', cuti_sakit: 'Cuti sakit', cuti_besar: 'Cuti besar',
  cuti_melahirkan: 'Cuti melahirkan', cuti_alasan_penting: 'Cuti alasan penting', cltn: 'CLTN', dinas_luar: 'Dinas luar', tugas_belajar: 'Tugas belajar',
};
const METHOD = { face: 'wajah', finger: 'sidik jari', pin: 'PIN', manual: 'manual', legacy: 'mesin lama' };
/** The Perbup line in words, with its key in the rule file kept for whoever checks it ("late[1]"). */
function lineLabel(item) {
  const m = /^(late|early)\[(\d+)\]\s*(.*)$/.exec(item);
  if (m) return `${m[1] === 'late' ? 'Terlambat' : 'Pulang cepat'} ${m[3]} (${m[1]}[${m[2]}])`.trim();
  const words = { missingCheckInPct: 'Tidak absen masuk', missingCheckOutPct: 'Tidak absen pulang', absentPct: 'Tanpa keterangan' };
  return words[item] ? `${words[item]} (${item})` : item;
}
const REVIEW = { pending: 'menunggu verifikasi jam', accepted: 'diterima admin', rejected: 'ditolak admin' };

function signIn(note) {
  const msg = h('p.state.error', { role: 'alert', hidden: !note }, note ?? '');
  const nip = h('input', { name: 'nip', inputmode: 'numeric', autocomplete: 'username', required: true, placeholder: '18 digit' });
  const pw = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const code = h('input', { name: 'code', autocomplete: 'one-time-code', placeholder: 'XXXX-XXXX-XX' });
  const pw2 = h('input', { name: 'password2', type: 'password', autocomplete: 'new-password' });
  let first = false;
  const codeRows = h('div', { hidden: true }, h('label.field', h('span', 'Kode aktivasi dari OPD'), code), h('label.field', h('span', 'Ulangi kata sandi baru'), pw2));
  const pwLabel = h('span', 'Kata sandi');
  const toggle = h('button.link', { type: 'button', onclick: () => {
    first = !first;
    codeRows.hidden = !first;
    pwLabel.textContent = first ? 'Kata sandi baru (minimal 8 karakter)' : 'Kata sandi';
    toggle.textContent = first ? 'Sudah punya kata sandi? Masuk' : 'Pertama kali? Pakai kode aktivasi';
  } }, 'Pertama kali? Pakai kode aktivasi');
  const submit = h('button', { type: 'submit' }, 'Masuk');
  fill(root,
    h('h1', 'Presensi Saya'),
    h('p.muted', 'Lihat presensi, status harian dan TPP Anda sendiri.'),
    h('form.stack', { onsubmit: async (e) => {
      e.preventDefault();
      msg.hidden = true;
      if (first && pw.value !== pw2.value) {
        msg.textContent = 'Kedua kata sandi tidak sama.';
        msg.hidden = false;
        return;
      }
      submit.disabled = true;
      try {
        const r = first
          ? await json('/saya/activate', { method: 'POST', body: { nip: nip.value.trim(), code: code.value, password: pw.value } })
          : await json('/saya/login', { method: 'POST', body: { nip: nip.value.trim(), password: pw.value } });
        token = r.token;
        localStorage.setItem(KEY, token);
        await show(isoMonth());
      } catch (err) {
        msg.textContent = err.message;
        msg.hidden = false;
      } finally {
        submit.disabled = false;
      }
    } }, msg, h('label.field', h('span', 'NIP'), nip), h('label.field', pwLabel, pw), codeRows, submit, toggle),
    h('p.muted.tiny', 'Kode aktivasi sekali pakai dibagikan oleh admin OPD Anda. Lupa kata sandi? Minta kode baru ke admin OPD.'));
}

async function photo(id) {
  const img = h('img.evidence', { alt: 'foto presensi' });
  call(`/saya/punches/${encodeURIComponent(id)}/photo`).then(async (r) => (img.src = URL.createObjectURL(await r.blob()))).catch(() => img.remove());
  return img;
}

async function show(month) {
  fill(root, h('p.state', 'Memuat…'));
  let me, m;
  try {
    [me, m] = await Promise.all([json('/saya/me'), json('/saya/month', { query: { month } })]);
  } catch (e) {
    if (!token) return signIn(e.message);
    return fill(root, h('p.state.error', { role: 'alert' }, e.message), h('button', { type: 'button', onclick: () => show(month) }, 'Coba lagi'));
  }
  const months = [0, 1, 2].map((i) => {
    const [y, mm] = isoMonth().split('-').map(Number);
    return new Date(Date.UTC(y, mm - 1 - i, 1)).toISOString().slice(0, 7);
  });
  const t = m.tpp;
  const money = t?.money;
  const days = m.days.filter((d) => d.status !== 'future' && d.status !== 'not_employed');
  const punchesByDate = new Map();
  for (const p of m.punches) {
    const k = dateTime(p.capturedAt).slice(0, 10);
    punchesByDate.set(k, [...(punchesByDate.get(k) ?? []), p]);
  }
  const kebForm = keberatanForm(month, () => show(month));
  fill(root,
    h('div.who', h('h1', me.name), h('button.secondary', { type: 'button', onclick: logout }, 'Keluar')),
    h('p.muted', `NIP ${me.nip} · ${me.unitName ?? ''} · ${me.opdName ?? me.opd}`),
    h('label.field', h('span', 'Bulan'), h('select', { 'data-testid': 'month', onchange: (e) => show(e.target.value) }, months.map((x) => h('option', { value: x, selected: x === month }, monthLabel(x))))),

    h('section', { 'data-testid': 'tpp' }, h('h2', `TPP ${monthLabel(month)}`),
      t
        ? h('div',
            h('div.money',
              h('span', 'TPP dasar'), h('span.num', rupiah(t.prorata?.base ?? t.base)),
              h('span', `Bagian disiplin (aturan ${t.rule})`), h('span.num', rupiah(money.disiplin_full)),
              h('span', `Potongan disiplin ${pct(t.applied_pct)}${money.capped ? ` (dibatasi ${pct(t.cap_pct)})` : ''}`), h('span.num', `−${rupiah(money.deduction_rupiah)}`),
              h('span', 'Disiplin diterima'), h('span.num', rupiah(t.disiplin)),
              h('span', `Produktivitas (nilai kinerja ${t.produktivitas_score ?? 'belum ada'})`), h('span.num', rupiah(t.produktivitas)),
              h('span.total', 'Jumlah TPP'), h('span.num.total', { 'data-testid': 'tpp-total' }, rupiah(t.total))),
            h('h2', 'Rincian potongan'),
            money.lines.length
              ? h('ul.lines', { 'data-testid': 'lines' }, money.lines.map((l) => h('li', h('span', `${date(l.date)} · ${lineLabel(l.item)} · ${pct(l.pct)}`, h('br'), h('small.muted', `Perbup ${l.rule}`)), h('span.num', `−${rupiah(l.rupiah)}`))))
              : h('p', 'Tidak ada potongan bulan ini.'))
        : h('p.muted', m.tppError ? `TPP belum dapat dihitung: ${localMessage(m.tppError, 400, 'id')}` : 'TPP belum tersedia.')),

    h('section', h('h2', 'Status harian'),
      days.length
        ? h('ul.days', { 'data-testid': 'days' }, days.slice().reverse().map((d) => h('li',
            h('span', date(d.date)),
            h('span', h('b', d.code || '·'), ` ${STATUS[d.status] ?? d.status}`, d.minutes_late ? ` ${d.minutes_late} mnt` : '', d.minutes_early ? ` (pulang ${d.minutes_early} mnt lebih awal)` : ''),
            h('span.tiny.muted', (punchesByDate.get(date(d.date)) ?? []).map((p) => time(p.capturedAt)).join(' · ')))))
        : h('p.muted', 'Belum ada hari kerja yang dihitung bulan ini.')),

    h('section', h('h2', 'Presensi dan foto'),
      m.punches.length
        ? h('ul.punches', { 'data-testid': 'punches' }, await Promise.all(m.punches.slice().reverse().map(async (p) => h('li',
            h('span', dateTime(p.capturedAt)),
            h('span', `${p.siteName ?? p.site ?? ''} · ${METHOD[p.method] ?? p.method}`, p.reviewStatus !== 'none' ? h('small.muted', ` · ${REVIEW[p.reviewStatus] ?? p.reviewStatus}`) : null),
            p.hasPhoto ? await photo(p.id) : h('span.tiny.muted', 'tanpa foto')))))
        : h('p.muted', 'Belum ada presensi bulan ini.')),

    h('section', h('h2', 'Keberatan'), kebForm,
      m.keberatan.length
        ? h('ul.lines', m.keberatan.map((k) => h('li', h('span', `${date(k.date)}: ${k.reason}`, k.note ? h('br') : null, k.note ? h('small.muted', `Catatan admin: ${k.note}`) : null), h('span', { 'data-testid': 'keb-status' }, { pending: 'menunggu', approved: 'disetujui', rejected: 'ditolak' }[k.status]))))
        : null));
}

function keberatanForm(month, reload) {
  const msg = h('p', { role: 'status', hidden: true });
  const day = h('input', { name: 'date', type: 'date', required: true, max: new Date().toISOString().slice(0, 10), min: `${month}-01` });
  const reason = h('textarea', { name: 'reason', required: true, rows: 3, minLength: 10, placeholder: 'Mis.: saya absen masuk 07:25 tetapi tidak tercatat; kiosk sedang mati listrik.' });
  const btn = h('button', { type: 'submit' }, 'Kirim keberatan');
  return h('form.stack', { 'data-testid': 'keberatan', onsubmit: async (e) => {
    e.preventDefault();
    btn.disabled = true;
    try {
      await json('/saya/keberatan', { method: 'POST', body: { date: day.value, reason: reason.value } });
      await reload();
    } catch (err) {
      msg.textContent = err.message;
      msg.className = 'state error';
      msg.hidden = false;
      btn.disabled = false;
    }
  } }, h('label.field', h('span', 'Tanggal'), day), h('label.field', h('span', 'Alasan (dibaca admin OPD Anda)'), reason), btn, msg);
}

async function logout() {
  await call('/saya/logout', { method: 'POST' }).catch(() => {});
  localStorage.removeItem(KEY);
  token = null;
  signIn();
}

(async () => {
  await fetch('/api/v1/zone').then((r) => r.json()).then((z) => setZone(z.offsetMin)).catch(() => {});
  if (token) await show(isoMonth());
  else signIn();
})();
