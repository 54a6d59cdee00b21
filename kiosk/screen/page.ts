/**
 * The kiosk screen (one self-contained page: no network besides the kiosk's own /events).
 * Big clock, site, the last event for 8 seconds, then the idle prompt; connection and backlog.
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
  body { margin: 0; height: 100vh; display: flex; flex-direction: column; font-family: system-ui, sans-serif;
         background: #0f172a; color: #f8fafc; }
  header { display: flex; justify-content: space-between; align-items: center; padding: 2vh 3vw; font-size: 3vh; color: #cbd5e1; }
  #clock { font-size: 16vh; font-weight: 700; text-align: center; margin-top: 2vh; font-variant-numeric: tabular-nums; }
  #date { font-size: 3.5vh; text-align: center; color: #94a3b8; }
  #event { flex: 1; display: flex; flex-direction: column; justify-content: center; align-items: center; margin: 3vh 4vw;
           border-radius: 3vh; transition: background .2s; }
  #event.recorded { background: #166534; } #event.already { background: #1e40af; }
  #event.unknown { background: #9a3412; } #event.hint { background: #1e3a8a; } #event.fault { background: #991b1b; }
  #title { font-size: 8vh; font-weight: 700; text-align: center; }
  #name { font-size: 6vh; margin-top: 1vh; text-align: center; }
  #sub { font-size: 3vh; color: #e2e8f0; margin-top: 1vh; text-align: center; }
  footer { display: flex; gap: 3vw; padding: 2vh 3vw; font-size: 2.6vh; color: #cbd5e1; }
  .dot { display: inline-block; width: 2vh; height: 2vh; border-radius: 50%; margin-right: .8vw; vertical-align: middle; }
  .on { background: #22c55e; } .off { background: #ef4444; }
  #faults { color: #fca5a5; margin-left: auto; }
</style>
</head>
<body>
<header><span id="site">Hadir</span><span id="device"></span></header>
<div id="clock">--:--</div>
<div id="date"></div>
<div id="event"><div id="title">Silakan hadapkan wajah atau tempelkan jari</div><div id="name"></div><div id="sub">Please face the camera or place your finger</div></div>
<footer><span><span id="dot" class="dot off"></span><span id="conn">Menghubungkan…</span></span><span id="backlog"></span><span id="faults"></span></footer>
<script>
  let view = null; let shownAt = 0;
  const $ = (id) => document.getElementById(id);
  function tick() {
    const tz = (view && view.timeZone) || undefined;
    const now = new Date();
    $('clock').textContent = now.toLocaleTimeString('id-ID', { timeZone: tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
    $('date').textContent = now.toLocaleDateString('id-ID', { timeZone: tz, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
    const ev = view && view.last;
    const fresh = ev && Date.now() - shownAt < 8000;
    $('event').className = fresh ? ev.kind : '';
    if (fresh) {
      $('title').textContent = ev.title;
      $('name').textContent = ev.name ? ev.name + (ev.time ? ' — ' + ev.time : '') : (ev.detail || '');
      $('sub').textContent = ev.titleEn + (ev.nip ? ' · NIP ' + ev.nip : '');
    } else {
      $('title').textContent = 'Silakan hadapkan wajah atau tempelkan jari';
      $('name').textContent = '';
      $('sub').textContent = 'Please face the camera or place your finger';
    }
  }
  function render(v) {
    const prev = view && view.last;
    view = v;
    if (v.last && (!prev || prev.at !== v.last.at || prev.title !== v.last.title)) shownAt = Date.now();
    $('site').textContent = v.site;
    $('device').textContent = v.deviceId;
    $('dot').className = 'dot ' + (v.connected ? 'on' : 'off');
    $('conn').textContent = v.connected ? 'Terhubung ke server' : 'Offline — presensi tetap tersimpan';
    $('backlog').textContent = v.backlog > 0 ? v.backlog + ' presensi menunggu dikirim' : 'Semua presensi terkirim';
    $('faults').textContent = v.faults && v.faults.length ? 'Gangguan: ' + v.faults.join(', ') : '';
    tick();
  }
  const es = new EventSource('/events');
  es.addEventListener('view', (e) => render(JSON.parse(e.data)));
  es.onerror = () => { $('dot').className = 'dot off'; $('conn').textContent = 'Layar terputus dari aplikasi kiosk'; };
  setInterval(tick, 1000); tick();
</script>
</body>
</html>
`;
