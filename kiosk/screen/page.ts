/**
 * The kiosk screen (one self-contained page: no network besides the kiosk's own /events and
 * /preview.mjpg). Laid out for a 7-inch 800×480 panel read from about 1.5 m:
 *   header  — site, and the clock "07:31:05 WIB" (the office zone, named);
 *   middle  — the live camera picture with the face box and the quality hint ("mendekat ke kamera")
 *             so a person sees where to stand and why the face is not taken; beside it the result:
 *             "Tercatat", the name, the time and the face crop that was captured;
 *   footer  — connection and backlog in 30 px type (about 4 mm capitals on this panel, ~9 arcmin at
 *             1.5 m: readable at a glance; the old 2.6vh footer was 12 px).
 * A result disappears after its seconds (the kiosk also drops it from /state): nobody's name or
 * face stays for the next person.
 */
export const SCREEN_HTML = `<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hadir</title>
<style>
  :root { color-scheme: dark; }
  * { box-sizing: border-box; }
  html, body { height: 100%; }
  body { margin: 0; display: grid; grid-template-rows: auto 1fr auto; font-family: system-ui, sans-serif; background: #0f172a; color: #f8fafc; overflow: hidden; }
  header { display: flex; justify-content: space-between; align-items: baseline; padding: 10px 18px 4px; gap: 12px; }
  #site { font-size: 26px; color: #cbd5e1; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  #clockbox { text-align: right; white-space: nowrap; }
  #clock { font-size: 52px; font-weight: 700; font-variant-numeric: tabular-nums; }
  #zone { font-size: 26px; color: #94a3b8; margin-left: 6px; }
  #date { font-size: 20px; color: #94a3b8; }
  main { display: grid; grid-template-columns: auto 1fr; gap: 14px; padding: 4px 18px; min-height: 0; }
  main.nopreview { grid-template-columns: 1fr; }
  #cam { position: relative; width: 340px; height: 255px; border-radius: 14px; overflow: hidden; background: #020617; align-self: center; }
  main.nopreview #cam { display: none; }
  #cam img { width: 100%; height: 100%; object-fit: fill; transform: scaleX(-1); display: block; }
  #box { position: absolute; border: 4px solid #22c55e; border-radius: 10px; display: none; }
  #box.warn { border-color: #facc15; }
  #hint { position: absolute; left: 0; right: 0; bottom: 0; padding: 6px 10px; background: rgba(2,6,23,.78); font-size: 22px; text-align: center; display: none; }
  #event { display: flex; align-items: center; gap: 16px; border-radius: 16px; padding: 14px 18px; min-width: 0; background: #1e293b; }
  #event.recorded { background: #166534; } #event.already { background: #1e40af; }
  #event.unknown { background: #9a3412; } #event.hint { background: #1e3a8a; } #event.fault { background: #991b1b; }
  #crop { width: 120px; height: 150px; object-fit: cover; border-radius: 10px; border: 3px solid rgba(255,255,255,.7); display: none; }
  #text { min-width: 0; }
  #title { font-size: 42px; font-weight: 700; line-height: 1.1; }
  #name { font-size: 34px; margin-top: 6px; overflow-wrap: anywhere; }
  #sub { font-size: 22px; color: #e2e8f0; margin-top: 6px; }
  footer { display: grid; grid-template-columns: 1fr; gap: 2px; padding: 8px 18px 10px; font-size: 30px; line-height: 1.15; color: #e2e8f0; background: #111c33; }
  footer .row { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .dot { display: inline-block; width: 22px; height: 22px; border-radius: 50%; margin-right: 10px; vertical-align: -2px; }
  .on { background: #22c55e; } .off { background: #ef4444; }
  #faults { color: #fca5a5; }
</style>
</head>
<body>
<header><span id="site">Hadir</span><span id="clockbox"><span id="clock">--:--:--</span><span id="zone"></span><div id="date"></div></span></header>
<main id="main" class="nopreview">
  <div id="cam"><img id="preview" alt=""><div id="box"></div><div id="hint"></div></div>
  <div id="event"><img id="crop" alt=""><div id="text"><div id="title">Silakan hadapkan wajah atau tempelkan jari</div><div id="name"></div><div id="sub">Please face the camera or place your finger</div></div></div>
</main>
<footer><div class="row"><span id="dot" class="dot off"></span><span id="conn">Menghubungkan…</span></div><div class="row"><span id="backlog"></span> <span id="faults"></span></div></footer>
<script>
  let view = null; let shownAt = 0; let hintAt = 0;
  const ZONES = { 'Asia/Jakarta': 'WIB', 'Asia/Pontianak': 'WIB', 'Asia/Makassar': 'WITA', 'Asia/Jayapura': 'WIT' };
  const $ = (id) => document.getElementById(id);
  const IDLE = ['Silakan hadapkan wajah atau tempelkan jari', 'Please face the camera or place your finger'];
  function two(n) { return String(n).padStart(2, '0'); }
  function tick() {
    const tz = (view && view.timeZone) || 'Asia/Jakarta';
    const now = new Date();
    // hh:mm:ss with colons whatever the locale prints (id-ID would give 13.44.19)
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).formatToParts(now).map((x) => [x.type, x.value]));
    $('clock').textContent = two(Number(p.hour) % 24) + ':' + p.minute + ':' + p.second;
    $('zone').textContent = ZONES[tz] || tz;
    $('date').textContent = now.toLocaleDateString('id-ID', { timeZone: tz, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
    const ev = view && view.last;
    const fresh = ev && Date.now() - shownAt < 8000;
    $('event').className = fresh ? ev.kind : '';
    if (fresh) {
      $('title').textContent = ev.title;
      $('name').textContent = ev.name ? ev.name + (ev.time ? ' — ' + ev.time : '') : (ev.detail || '');
      $('sub').textContent = ev.note ? ev.note.split(' / ')[0] : ev.titleEn + (ev.nip ? ' · NIP ' + ev.nip : '');
      if (ev.photo) { $('crop').src = ev.photo; $('crop').style.display = 'block'; } else { $('crop').style.display = 'none'; $('crop').removeAttribute('src'); }
    } else {
      $('title').textContent = IDLE[0];
      $('name').textContent = '';
      $('sub').textContent = IDLE[1];
      $('crop').style.display = 'none';
      $('crop').removeAttribute('src');
    }
    if (Date.now() - hintAt > 1500) { $('box').style.display = 'none'; $('hint').style.display = 'none'; }
  }
  function render(v) {
    const prev = view && view.last;
    view = v;
    if (v.last && (!prev || prev.at !== v.last.at || prev.title !== v.last.title)) shownAt = Date.now();
    if (!v.last) shownAt = 0;
    $('site').textContent = v.site;
    const main = $('main');
    if (v.preview && main.classList.contains('nopreview')) { main.classList.remove('nopreview'); $('preview').src = '/preview.mjpg'; }
    $('dot').className = 'dot ' + (v.connected ? 'on' : 'off');
    $('conn').textContent = v.connected ? 'Terhubung ke server' : 'Offline — presensi tetap tersimpan';
    $('backlog').textContent = v.backlog > 0
      ? (v.connected ? v.backlog + ' presensi sedang dikirim' : v.backlog + ' presensi tersimpan, dikirim saat terhubung')
      : 'Semua presensi terkirim';
    $('faults').textContent = v.faults && v.faults.length ? '· Gangguan: ' + v.faults.join(', ') : '';
    tick();
  }
  function preview(m) {
    hintAt = Date.now();
    const b = $('box');
    if (m.box) {
      // the picture is mirrored (people expect a mirror): mirror the box too
      b.style.display = 'block'; b.className = m.hint ? 'warn' : '';
      b.style.left = ((1 - m.box[0] - m.box[2]) * 100) + '%'; b.style.top = (m.box[1] * 100) + '%';
      b.style.width = (m.box[2] * 100) + '%'; b.style.height = (m.box[3] * 100) + '%';
    } else b.style.display = 'none';
    $('hint').style.display = m.hint ? 'block' : 'none';
    $('hint').textContent = m.hint || '';
  }
  // The box is drawn in frame fractions: the picture area takes the frame's aspect (no crop, no stretch).
  $('preview').addEventListener('load', () => {
    const img = $('preview'); const ar = img.naturalWidth / img.naturalHeight;
    if (!ar) return;
    const w = Math.min(340, 300 * ar);
    $('cam').style.width = w + 'px'; $('cam').style.height = (w / ar) + 'px';
  });
  const es = new EventSource('/events');
  es.addEventListener('view', (e) => render(JSON.parse(e.data)));
  es.addEventListener('preview', (e) => preview(JSON.parse(e.data)));
  es.onerror = () => { $('dot').className = 'dot off'; $('conn').textContent = 'Layar terputus dari aplikasi kiosk'; };
  setInterval(tick, 1000); tick();
</script>
</body>
</html>
`;
