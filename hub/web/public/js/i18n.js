/**
 * Bahasa Indonesia first, English on request. The choice is remembered in localStorage.
 * t('key', {n: 3}) replaces {n}. A missing key shows the key itself (visible in review).
 */
const DICT = {
  id: {
    'app.title': 'Hadir — Dasbor Presensi',
    'appr.keberatan': 'Keberatan pegawai', 'appr.none_keb': 'Tidak ada keberatan yang menunggu.', 'appr.reason': 'Alasan', 'appr.filed': 'Diajukan',
    'appr.bulk': 'Sekaligus per terminal', 'appr.period': 'Periode', 'appr.count': 'Jumlah', 'appr.with_suggestion': '{n} dengan saran waktu',
    'appr.bulk_suggested': 'Terima {n} dengan saran waktu', 'appr.bulk_accept': 'Terima semua {n} apa adanya', 'appr.bulk_reject': 'Tolak semua',
    'summary.tpp': 'TPP bulan ini', 'summary.tpp_sub': '{n} pegawai', 'summary.late_list': 'Terlambat hari ini', 'summary.no_late': 'Tidak ada yang terlambat.', 'summary.minutes': '{n} mnt',
    'http.400': 'Permintaan ditolak hub (isian tidak valid)', 'http.401': 'Belum masuk atau sesi berakhir',
    'http.403': 'Anda tidak berhak melakukan ini', 'http.404': 'Data tidak ditemukan', 'http.409': 'Sudah diproses sebelumnya',
    'http.410': 'Sudah kedaluwarsa', 'http.429': 'Terlalu banyak percobaan, coba lagi nanti', 'http.other': 'Hub tidak dapat memproses permintaan',
    'app.name': 'Hadir',
    'lang.switch': 'English', 'foot.mqtt_ok': 'terhubung', 'foot.mqtt_down': 'terputus',
    'nav.summary': 'Ringkasan', 'nav.devices': 'Terminal', 'nav.attendance': 'Presensi', 'nav.tpp': 'TPP',
    'nav.late': 'Terlambat hari ini', 'nav.approvals': 'Persetujuan', 'nav.audit': 'Log audit',
    'role.bkpsdm': 'BKPSDM (seluruh kabupaten)', 'role.opd_admin': 'Admin OPD', 'role.technician': 'Teknisi',
    'audit.title': 'Log audit', 'audit.sub_all': 'Setiap perubahan oleh admin, teknisi, kiosk dan baris perintah — tidak dapat diubah tanpa ketahuan.',
    'audit.sub_opd': 'Perubahan yang menyangkut OPD Anda.', 'audit.action': 'Aksi', 'audit.action_hint': 'mis. device. atau finger.',
    'audit.who': 'Oleh', 'audit.from': 'Dari', 'audit.target': 'Sasaran', 'audit.before': 'Sebelum', 'audit.after': 'Sesudah',
    'audit.verify': 'Periksa rantai hash', 'audit.intact': 'Utuh: {n} entri', 'audit.tampered': 'RUSAK: {n} masalah',
    'audit.count': 'Entri {from}–{to} dari {total}', 'audit.exported': 'Diunduh: {name}',
    'auth.logout': 'Keluar', 'auth.title': 'Masuk', 'auth.subtitle': 'Dasbor presensi dan TPP',
    'auth.username': 'Nama pengguna', 'auth.password': 'Kata sandi', 'auth.submit': 'Masuk',
    'auth.busy': 'Memeriksa…', 'auth.expired': 'Sesi Anda berakhir. Silakan masuk lagi.',
    'auth.hint': 'Kata sandi diatur oleh operator hub: hadir user passwd NAMA',
    'state.loading': 'Memuat…', 'state.empty': 'Belum ada data.', 'state.error': 'Gagal memuat: {msg}',
    'state.offline': 'Hub tidak dapat dihubungi. Periksa jaringan lalu coba lagi.',
    'state.retry': 'Coba lagi', 'state.forbidden': 'Anda tidak berhak melihat data ini: {msg}',
    'common.refresh': 'Muat ulang', 'common.month': 'Bulan', 'common.opd': 'OPD', 'common.all_opd': 'Semua OPD',
    'common.nip': 'NIP', 'common.name': 'Nama', 'common.unit': 'Unit', 'common.site': 'Lokasi', 'common.yes': 'ya', 'common.no': 'tidak',
    'common.download': 'Unduh', 'common.updated': 'Diperbarui {t}', 'common.close': 'Tutup', 'common.none': 'tidak ada',
    'common.show': 'Tampilkan', 'common.search': 'Cari', 'common.search_hint': 'nama atau NIP', 'common.time': 'Waktu', 'devices.never': 'belum pernah', 'common.total': 'Jumlah',
    'summary.title': 'Ringkasan hari ini', 'summary.punches': 'Presensi hari ini', 'summary.late': 'Terlambat hari ini',
    'summary.not_in': 'Belum absen masuk', 'summary.online': 'Terminal online', 'summary.offline': 'Terminal offline',
    'summary.alerts': 'Peringatan terbuka', 'summary.of': 'dari {n}', 'summary.backlog': 'Presensi tertahan di terminal',
    'summary.recent': 'Presensi terakhir', 'summary.pending': 'Menunggu persetujuan', 'summary.offline_list': 'Terminal offline',
    'summary.no_offline': 'Semua terminal online.',
    'devices.title': 'Terminal (kiosk)', 'devices.id': 'Terminal', 'devices.state': 'Status', 'devices.last_seen': 'Terakhir terlihat',
    'devices.backlog': 'Belum terkirim', 'devices.oldest': 'Tertua', 'devices.gaps': 'Celah seq', 'devices.clock': 'Jam',
    'devices.offset': 'Selisih jam', 'devices.drift': 'Drift', 'devices.temp': 'Suhu CPU', 'devices.disk': 'Disk bebas',
    'fleet.rollout': 'Pembaruan', 'fleet.failures': 'Kegagalan pembaruan', 'fleet.stage': 'tahap',
    'fleet.state.pending': 'menunggu', 'fleet.state.downloading': 'mengunduh', 'fleet.state.downloaded': 'terunduh', 'fleet.state.installing': 'memasang', 'fleet.state.confirmed': 'berhasil', 'fleet.state.failed': 'gagal',
    'fleet.rstate.running': 'berjalan', 'fleet.rstate.paused': 'dijeda', 'fleet.rstate.halted': 'dihentikan', 'fleet.rstate.aborted': 'dibatalkan', 'fleet.rstate.completed': 'selesai',
    'devices.components': 'Komponen', 'devices.version': 'Versi', 'devices.online': 'online', 'devices.offline': 'offline',
    'devices.disabled': 'nonaktif', 'devices.not_enrolled': 'belum terdaftar', 'devices.synced': 'sinkron', 'devices.unsynced': 'tidak sinkron',
    'devices.empty': 'Belum ada terminal. Daftarkan dengan: hadir device add --site KODE',
    'devices.detail': 'Rincian', 'devices.alerts': 'Peringatan', 'devices.open_alerts': 'Peringatan terbuka', 'devices.no_alerts': 'Tidak ada peringatan terbuka.',
    'devices.ack': 'Tandai diketahui', 'devices.acked': 'Diketahui', 'devices.command': 'Perintah jarak jauh',
    'devices.send': 'Kirim', 'devices.sending': 'Mengirim dan menunggu jawaban…', 'devices.cmd_done': 'Selesai', 'devices.cmd_failed': 'Gagal',
    'devices.cmd_pending': 'Terkirim, belum ada jawaban (terminal mungkin offline)', 'devices.history': 'Perintah terakhir',
    'devices.no_commands': 'Belum ada perintah.', 'devices.seq': 'Seq diterima', 'devices.est_offset': 'Perkiraan hub',
    'devices.reported_offset': 'Dilaporkan kiosk', 'devices.per_day': '/hari', 'devices.uptime': 'Aktif sejak',
    'finger.0': 'Tidak ditentukan', 'finger.1': 'Ibu jari kanan', 'finger.2': 'Telunjuk kanan', 'finger.3': 'Jari tengah kanan', 'finger.4': 'Jari manis kanan', 'finger.5': 'Kelingking kanan', 'finger.6': 'Ibu jari kiri', 'finger.7': 'Telunjuk kiri', 'finger.8': 'Jari tengah kiri', 'finger.9': 'Jari manis kiri', 'finger.10': 'Kelingking kiri',
    'devices.method': 'Metode', 'devices.face': 'Wajah', 'devices.finger': 'Sidik jari', 'devices.finger_no': 'Jari', 'devices.need_nip': 'Isi NIP pegawai yang akan didaftarkan', 'devices.enrol_wait': 'Menunggu pegawai di depan terminal (maks. 60 detik)…', 'devices.confirm_restart': 'Mulai ulang layanan di {id}? Terminal tidak melayani absen selama beberapa detik.',
    'cmd.ping': 'Ping', 'cmd.sync_now': 'Kirim ulang sekarang', 'cmd.reload_roster': 'Muat ulang daftar pegawai',
    'cmd.restart_service': 'Mulai ulang layanan', 'cmd.enrol_mode': 'Mode pendaftaran',
    'alert.offline': 'Offline', 'alert.clock_drift': 'Jam menyimpang', 'alert.clock_unsynced': 'Jam tidak sinkron', 'alert.clock_jump': 'Jam melompat', 'alert.backlog_growing': 'Antrean presensi bertambah', 'alert.disk_low': 'Disk hampir penuh', 'alert.temperature': 'Suhu tinggi', 'alert.throttling': 'CPU diperlambat', 'alert.sensor_fault': 'Sensor rusak',
    'sev.critical': 'kritis', 'sev.warning': 'peringatan', 'sev.info': 'info',
    'comp.ok': 'baik', 'comp.degraded': 'menurun', 'comp.fault': 'rusak', 'comp.absent': 'tidak terpasang', 'comp.disabled': 'nonaktif',
    'compname.camera': 'kamera', 'compname.face': 'wajah', 'compname.finger': 'sidik jari', 'compname.clock': 'jam', 'compname.journal': 'jurnal',
    'compname.gpio': 'lampu/bel', 'compname.system': 'sistem', 'compname.mqtt': 'koneksi', 'compname.sim': 'simulator', 'compname.roster': 'daftar pegawai',
    'att.title': 'Presensi bulanan', 'att.employee': 'Pegawai', 'att.tip_in': 'masuk', 'att.tip_out': 'pulang', 'att.tip_min': 'mnt', 'att.work_days': 'Hari kerja', 'att.present': 'Hadir', 'att.late': 'Terlambat',
    'att.early': 'Pulang cepat', 'att.missing': 'Tidak lengkap', 'att.absent': 'TK', 'att.excused': 'Cuti/DL', 'att.deduction': 'Potongan',
    'att.pending': 'Menunggu verifikasi', 'att.legend': 'Keterangan kode', 'att.empty': 'Tidak ada pegawai pada OPD dan bulan ini.',
    'att.through': 'Dihitung sampai {d}', 'att.choose_opd': 'Pilih OPD untuk melihat presensi.', 'att.employees': '{n} pegawai',
    'tpp.title': 'TPP bulanan', 'tpp.base': 'TPP dasar', 'tpp.deduction': 'Potongan', 'tpp.applied': 'Diterapkan',
    'tpp.disiplin': 'Disiplin', 'tpp.score': 'Skor kinerja', 'tpp.produktivitas': 'Produktivitas', 'tpp.total': 'Total diterima',
    'tpp.missing_score': 'skor belum ada', 'tpp.missing_scores': '{n} pegawai belum punya skor kinerja (produktivitas dihitung 0)',
    'tpp.expand': 'Rincian', 'tpp.days': 'Hari dengan potongan', 'tpp.no_deduction_days': 'Tidak ada hari dengan potongan.',
    'tpp.rule': 'Aturan', 'tpp.line': 'Baris aturan', 'tpp.date': 'Tanggal', 'tpp.status': 'Status', 'tpp.minutes_late': 'Mnt terlambat',
    'tpp.minutes_early': 'Mnt pulang cepat', 'tpp.cap': 'batas {n}', 'tpp.sum': 'Jumlah TPP',
    'late.title': 'Terlambat hari ini', 'late.late': 'Terlambat', 'late.not_in': 'Belum absen masuk', 'late.start': 'Jam masuk',
    'late.in': 'Absen masuk', 'late.minutes': 'Menit', 'late.none': 'Tidak ada yang terlambat hari ini.', 'late.all_in': 'Semua sudah absen masuk.',
    'late.date': 'Tanggal',
    'appr.title': 'Persetujuan', 'appr.exceptions': 'Cuti dan dinas luar menunggu persetujuan', 'appr.type': 'Jenis',
    'appr.from': 'Dari', 'appr.to': 'Sampai', 'appr.note': 'Catatan', 'appr.requested_by': 'Diajukan oleh',
    'appr.approve': 'Setujui', 'appr.reject': 'Tolak', 'appr.none_exc': 'Tidak ada pengajuan yang menunggu.',
    'appr.punches': 'Presensi dengan jam belum terverifikasi', 'appr.captured': 'Waktu tercatat', 'appr.device': 'Terminal',
    'appr.suggested': 'Saran waktu', 'appr.accept': 'Terima', 'appr.correct': 'Koreksi ke', 'appr.apply': 'Terapkan',
    'appr.none_punch': 'Tidak ada presensi yang menunggu verifikasi.', 'appr.done': 'Tersimpan.', 'appr.new': 'Ajukan cuti / dinas luar', 'appr.submit': 'Ajukan', 'appr.evidence': 'Bukti', 'appr.evidence_hint': 'no. surat / SPT', 'appr.bad_date': 'Tulis tanggal sebagai dd/mm/yyyy', 'appr.bad_time': 'Tulis waktu sebagai dd/mm/yyyy jj:mm, mis. 05/10/2026 07:41', 'appr.clock': 'Sumber jam',
    'appr.confirm_reject': 'Tolak {what}? Tindakan ini tercatat atas nama Anda.',
    'status.not_employed': 'Belum bertugas', 'status.off': 'Libur', 'status.holiday': 'Libur nasional', 'status.present': 'Hadir',
    'status.late': 'Terlambat', 'status.early': 'Pulang cepat', 'status.late_early': 'Terlambat dan pulang cepat',
    'status.missing_in': 'Tidak absen masuk', 'status.missing_out': 'Tidak absen pulang', 'status.missing_mid': 'Tidak absen siang',
    'status.absent': 'Tanpa keterangan', 'status.future': 'Belum berjalan', 'status.cuti_tahunan': 'Cuti tahunan',
    'status.cuti_besar': 'Cuti besar', 'status.cuti_sakit': 'Cuti sakit', 'status.cuti_melahirkan': 'Cuti melahirkan',
    'status.cuti_alasan_penting': 'Cuti alasan penting', 'status.cltn': 'CLTN', 'status.dinas_luar': 'Dinas luar',
    'status.tugas_belajar': 'Tugas belajar',
  },
  en: {
    'app.title': 'Hadir — Attendance dashboard',
    'app.name': 'Hadir',
    'lang.switch': 'Bahasa Indonesia', 'foot.mqtt_ok': 'connected', 'foot.mqtt_down': 'disconnected',
    'nav.summary': 'Summary', 'nav.devices': 'Terminals', 'nav.attendance': 'Attendance', 'nav.tpp': 'TPP',
    'nav.late': 'Late today', 'nav.approvals': 'Approvals', 'nav.audit': 'Audit log',
    'role.technician': 'Technician',
    'audit.title': 'Audit log', 'audit.sub_all': 'Every change by admins, technicians, kiosks and the command line — tamper-evident.',
    'audit.sub_opd': 'Changes concerning your OPD.', 'audit.action': 'Action', 'audit.action_hint': 'e.g. device. or finger.',
    'audit.who': 'By', 'audit.from': 'From', 'audit.target': 'Target', 'audit.before': 'Before', 'audit.after': 'After',
    'audit.verify': 'Check the hash chain', 'audit.intact': 'Intact: {n} entries', 'audit.tampered': 'TAMPERED: {n} problems',
    'audit.count': 'Entries {from}–{to} of {total}', 'audit.exported': 'Downloaded: {name}',
    'role.bkpsdm': 'BKPSDM (whole regency)', 'role.opd_admin': 'OPD admin',
    'auth.logout': 'Log out', 'auth.title': 'Log in', 'auth.subtitle': 'Attendance and TPP dashboard',
    'auth.username': 'Username', 'auth.password': 'Password', 'auth.submit': 'Log in',
    'auth.busy': 'Checking…', 'auth.expired': 'Your session has ended. Please log in again.',
    'auth.hint': 'Passwords are set by the hub operator: hadir user passwd NAME',
    'state.loading': 'Loading…', 'state.empty': 'No data yet.', 'state.error': 'Could not load: {msg}',
    'state.offline': 'The hub cannot be reached. Check the network and try again.',
    'state.retry': 'Try again', 'state.forbidden': 'You may not see this: {msg}',
    'common.refresh': 'Refresh', 'common.month': 'Month', 'common.opd': 'OPD', 'common.all_opd': 'All OPDs',
    'common.nip': 'NIP', 'common.name': 'Name', 'common.unit': 'Unit', 'common.site': 'Site', 'common.yes': 'yes', 'common.no': 'no',
    'common.download': 'Download', 'common.updated': 'Updated {t}', 'common.close': 'Close', 'common.none': 'none',
    'common.show': 'Show', 'common.search': 'Search', 'common.search_hint': 'name or NIP', 'common.time': 'Time', 'devices.never': 'never', 'common.total': 'Total',
    'summary.title': 'Today at a glance', 'summary.punches': 'Punches today', 'summary.late': 'Late today',
    'summary.not_in': 'Not checked in yet', 'summary.online': 'Terminals online', 'summary.offline': 'Terminals offline',
    'summary.alerts': 'Open alerts', 'summary.of': 'of {n}', 'summary.backlog': 'Punches held on terminals',
    'summary.recent': 'Latest punches', 'summary.pending': 'Awaiting approval', 'summary.offline_list': 'Offline terminals',
    'summary.no_offline': 'All terminals are online.',
    'devices.title': 'Terminals (kiosks)', 'devices.id': 'Terminal', 'devices.state': 'State', 'devices.last_seen': 'Last seen',
    'devices.backlog': 'Undelivered', 'devices.oldest': 'Oldest', 'devices.gaps': 'Seq gaps', 'devices.clock': 'Clock',
    'devices.offset': 'Clock offset', 'devices.drift': 'Drift', 'devices.temp': 'CPU temp', 'devices.disk': 'Disk free',
    'fleet.rollout': 'Update', 'fleet.failures': 'Update failures', 'fleet.stage': 'stage',
    'fleet.state.pending': 'pending', 'fleet.state.downloading': 'downloading', 'fleet.state.downloaded': 'downloaded', 'fleet.state.installing': 'installing', 'fleet.state.confirmed': 'done', 'fleet.state.failed': 'failed',
    'fleet.rstate.running': 'running', 'fleet.rstate.paused': 'paused', 'fleet.rstate.halted': 'halted', 'fleet.rstate.aborted': 'aborted', 'fleet.rstate.completed': 'completed',
    'devices.components': 'Components', 'devices.version': 'Version', 'devices.online': 'online', 'devices.offline': 'offline',
    'devices.disabled': 'disabled', 'devices.not_enrolled': 'not enrolled', 'devices.synced': 'synced', 'devices.unsynced': 'not synced',
    'devices.empty': 'No terminals yet. Register one with: hadir device add --site CODE',
    'devices.detail': 'Details', 'devices.alerts': 'Alerts', 'devices.open_alerts': 'Open alerts', 'devices.no_alerts': 'No open alerts.',
    'devices.ack': 'Acknowledge', 'devices.acked': 'Acknowledged', 'devices.command': 'Remote command',
    'devices.send': 'Send', 'devices.sending': 'Sending and waiting for the answer…', 'devices.cmd_done': 'Done', 'devices.cmd_failed': 'Failed',
    'devices.cmd_pending': 'Sent, no answer yet (the terminal may be offline)', 'devices.history': 'Recent commands',
    'devices.no_commands': 'No commands yet.', 'devices.seq': 'Seq received', 'devices.est_offset': 'Hub estimate',
    'devices.reported_offset': 'Kiosk reports', 'devices.per_day': '/day', 'devices.uptime': 'Up since',
    'finger.0': 'Unspecified', 'finger.1': 'Right thumb', 'finger.2': 'Right index', 'finger.3': 'Right middle', 'finger.4': 'Right ring', 'finger.5': 'Right little', 'finger.6': 'Left thumb', 'finger.7': 'Left index', 'finger.8': 'Left middle', 'finger.9': 'Left ring', 'finger.10': 'Left little',
    'devices.method': 'Method', 'devices.face': 'Face', 'devices.finger': 'Fingerprint', 'devices.finger_no': 'Finger', 'devices.need_nip': 'Enter the NIP of the person to enrol', 'devices.enrol_wait': 'Waiting for the person at the terminal (up to 60 s)…', 'devices.confirm_restart': 'Restart the service on {id}? The terminal takes no punches for a few seconds.',
    'cmd.ping': 'Ping', 'cmd.sync_now': 'Resend now', 'cmd.reload_roster': 'Reload staff roster',
    'cmd.restart_service': 'Restart service', 'cmd.enrol_mode': 'Enrolment mode',
    'alert.offline': 'Offline', 'alert.clock_drift': 'Clock drift', 'alert.clock_unsynced': 'Clock not synced', 'alert.clock_jump': 'Clock jump', 'alert.backlog_growing': 'Backlog growing', 'alert.disk_low': 'Disk low', 'alert.temperature': 'High temperature', 'alert.throttling': 'CPU throttled', 'alert.sensor_fault': 'Sensor fault',
    'sev.critical': 'critical', 'sev.warning': 'warning', 'sev.info': 'info',
    'appr.keberatan': 'Staff correction requests', 'appr.none_keb': 'No correction request is waiting.', 'appr.reason': 'Reason', 'appr.filed': 'Filed',
    'appr.bulk': 'All at once, per terminal', 'appr.period': 'Period', 'appr.count': 'Count', 'appr.with_suggestion': '{n} with a suggested time',
    'appr.bulk_suggested': 'Accept {n} at the suggested time', 'appr.bulk_accept': 'Accept all {n} as stamped', 'appr.bulk_reject': 'Reject all',
    'summary.tpp': 'TPP this month', 'summary.tpp_sub': '{n} staff', 'summary.late_list': 'Late today', 'summary.no_late': 'Nobody is late.', 'summary.minutes': '{n} min',
    'http.400': 'The hub refused the request (invalid input)', 'http.401': 'Not signed in or session expired', 'http.403': 'You may not do this',
    'http.404': 'Not found', 'http.409': 'Already done', 'http.410': 'Expired', 'http.429': 'Too many attempts, try again later', 'http.other': 'The hub could not process the request',
    'comp.ok': 'ok', 'comp.degraded': 'degraded', 'comp.fault': 'fault', 'comp.absent': 'not fitted', 'comp.disabled': 'disabled',
    'compname.camera': 'camera', 'compname.face': 'face', 'compname.finger': 'fingerprint', 'compname.clock': 'clock', 'compname.journal': 'journal',
    'compname.gpio': 'lights/buzzer', 'compname.system': 'system', 'compname.mqtt': 'connection', 'compname.sim': 'simulator', 'compname.roster': 'roster',
    'att.title': 'Monthly attendance', 'att.employee': 'Employee', 'att.tip_in': 'in', 'att.tip_out': 'out', 'att.tip_min': 'min', 'att.work_days': 'Work days', 'att.present': 'Present', 'att.late': 'Late',
    'att.early': 'Left early', 'att.missing': 'Incomplete', 'att.absent': 'Absent', 'att.excused': 'Leave/duty', 'att.deduction': 'Deduction',
    'att.pending': 'Awaiting review', 'att.legend': 'Codes', 'att.empty': 'No employees in this OPD and month.',
    'att.through': 'Counted through {d}', 'att.choose_opd': 'Choose an OPD to see attendance.', 'att.employees': 'Employees: {n}',
    'tpp.title': 'Monthly TPP', 'tpp.base': 'Base TPP', 'tpp.deduction': 'Deduction', 'tpp.applied': 'Applied',
    'tpp.disiplin': 'Discipline', 'tpp.score': 'Performance score', 'tpp.produktivitas': 'Productivity', 'tpp.total': 'Total paid',
    'tpp.missing_score': 'no score yet', 'tpp.missing_scores': 'Employees without a performance score: {n} (productivity counted as 0)',
    'tpp.expand': 'Details', 'tpp.days': 'Days with a deduction', 'tpp.no_deduction_days': 'No day with a deduction.',
    'tpp.rule': 'Rule', 'tpp.line': 'Rule line', 'tpp.date': 'Date', 'tpp.status': 'Status', 'tpp.minutes_late': 'Min late',
    'tpp.minutes_early': 'Min early', 'tpp.cap': 'cap {n}', 'tpp.sum': 'TPP total',
    'late.title': 'Late today', 'late.late': 'Late', 'late.not_in': 'Not checked in yet', 'late.start': 'Start',
    'late.in': 'Checked in', 'late.minutes': 'Minutes', 'late.none': 'Nobody is late today.', 'late.all_in': 'Everyone has checked in.',
    'late.date': 'Date',
    'appr.title': 'Approvals', 'appr.exceptions': 'Leave and duty travel awaiting approval', 'appr.type': 'Type',
    'appr.from': 'From', 'appr.to': 'To', 'appr.note': 'Note', 'appr.requested_by': 'Requested by',
    'appr.approve': 'Approve', 'appr.reject': 'Reject', 'appr.none_exc': 'Nothing awaits approval.',
    'appr.punches': 'Punches with an unverified clock', 'appr.captured': 'Recorded time', 'appr.device': 'Terminal',
    'appr.suggested': 'Suggested time', 'appr.accept': 'Accept', 'appr.correct': 'Correct to', 'appr.apply': 'Apply',
    'appr.none_punch': 'No punch awaits review.', 'appr.done': 'Saved.', 'appr.new': 'Request leave / duty travel', 'appr.submit': 'Submit', 'appr.evidence': 'Evidence', 'appr.evidence_hint': 'letter / SPT no.', 'appr.bad_date': 'Write dates as dd/mm/yyyy', 'appr.bad_time': 'Write the time as dd/mm/yyyy hh:mm, e.g. 05/10/2026 07:41', 'appr.clock': 'Clock source',
    'appr.confirm_reject': 'Reject {what}? This is recorded under your name.',
    'status.not_employed': 'Not employed', 'status.off': 'Day off', 'status.holiday': 'Public holiday', 'status.present': 'Present',
    'status.late': 'Late', 'status.early': 'Left early', 'status.late_early': 'Late and left early',
    'status.missing_in': 'No check-in', 'status.missing_out': 'No check-out', 'status.missing_mid': 'No midday punch',
    'status.absent': 'Absent without leave', 'status.future': 'Not yet', 'status.cuti_tahunan': 'Annual leave',
    'status.cuti_besar': 'Long leave', 'status.cuti_sakit': 'Sick leave', 'status.cuti_melahirkan': 'Maternity leave',
    'status.cuti_alasan_penting': 'Compassionate leave', 'status.cltn': 'Unpaid leave', 'status.dinas_luar': 'Duty travel',
    'status.tugas_belajar': 'Study assignment',
  },
};

const KEY = 'hadir.lang';
let current = (() => {
  try {
    return localStorage.getItem(KEY) === 'en' ? 'en' : 'id';
  } catch {
    return 'id';
  }
})();

export function lang() {
  return current;
}
export function setLang(l) {
  current = l === 'en' ? 'en' : 'id';
  try {
    localStorage.setItem(KEY, current);
  } catch {
    /* private mode: the choice lasts this page only */
  }
  document.documentElement.lang = current;
}
export function t(key, vars, language = current) {
  let s = DICT[language][key] ?? DICT.id[key];
  if (s === undefined) {
    console.warn('i18n: missing key', key);
    return key;
  }
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}
export function has(key) {
  return key in DICT[current] || key in DICT.id;
}
/** For tests and review: keys present in one language and not the other. */
export function missingKeys() {
  const a = Object.keys(DICT.id), b = Object.keys(DICT.en);
  return { en: a.filter((k) => !(k in DICT.en)), id: b.filter((k) => !(k in DICT.id)) };
}
