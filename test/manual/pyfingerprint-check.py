#!/usr/bin/env python3
"""Manual conformance check: pyfingerprint (an independent client nobody here wrote) against
`hadir finger emulate`. Not part of the suite: CI cannot fetch pyfingerprint. See docs/finger.md.

    hadir finger emulate --socket /tmp/fp.sock      # prints {"port": "...", ...}
    /usr/bin/python3 test/manual/pyfingerprint-check.py --pyfingerprint ~/src/pyfingerprint/src/files \
        --port <port> --socket /tmp/fp.sock --uploads 150

Needs Debian's python3-serial and python3-pil (pyfingerprint imports PIL). Calls every public method
of PyFingerprint once with the result a module would give, then --uploads template uploads
(uploadCharacteristics: DownChar, then UpChar to read back and compare). Prints one line per call,
then one JSON line of counts. Exit status 1 when anything failed.
"""
import argparse
import json
import os
import random
import socket
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument('--pyfingerprint', required=True, help='directory that contains the pyfingerprint package')
ap.add_argument('--port', required=True, help='host end of the emulator pty')
ap.add_argument('--socket', required=True, help='control socket of `hadir finger emulate --socket`')
ap.add_argument('--uploads', type=int, default=150)
ap.add_argument('--seed', type=int, default=1)
args = ap.parse_args()

sys.path.insert(0, args.pyfingerprint)
from pyfingerprint.pyfingerprint import PyFingerprint, FINGERPRINT_CHARBUFFER1, FINGERPRINT_CHARBUFFER2  # noqa: E402


def control(req):
    """Puts a finger on the emulator's glass (or lifts it) through its control socket."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(args.socket)
    s.sendall((json.dumps(req) + '\n').encode())
    reply = b''
    while not reply.endswith(b'\n'):
        reply += s.recv(4096)
    s.close()
    return json.loads(reply)


results = []


def check(name, fn, expect=lambda r: True):
    t0 = time.time()
    try:
        r = fn()
        ok = bool(expect(r))
        detail = repr(r) if not isinstance(r, list) or len(r) < 8 else f'list of {len(r)}'
    except Exception as e:  # pyfingerprint raises plain Exception for module errors
        ok, detail = False, f'{type(e).__name__}: {e}'
    results.append((name, ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name:<28} {detail[:90]}  ({time.time() - t0:.2f} s)", flush=True)
    return ok


f = PyFingerprint(args.port, 57600, 0xFFFFFFFF, 0x00000000)
control({'op': 'lift'})

# system
check('verifyPassword', f.verifyPassword, lambda r: r is True)
check('getSystemParameters', f.getSystemParameters, lambda r: r[1] == 9 and r[4] == 0xFFFFFFFF)
check('getStorageCapacity', f.getStorageCapacity, lambda r: r > 0)
check('setSecurityLevel(4)', lambda: f.setSecurityLevel(4))
check('getSecurityLevel', f.getSecurityLevel, lambda r: r == 4)
check('setSecurityLevel(3)', lambda: f.setSecurityLevel(3))
check('setMaxPacketSize(64)', lambda: f.setMaxPacketSize(64))
check('getMaxPacketSize', f.getMaxPacketSize, lambda r: r == 64)
check('setMaxPacketSize(128)', lambda: f.setMaxPacketSize(128))
check('setBaudRate(57600)', lambda: f.setBaudRate(57600))
check('getBaudRate', f.getBaudRate, lambda r: r == 57600)
check('setSystemParameter(5, 2)', lambda: f.setSystemParameter(5, 2), lambda r: r is True)
check('setSystemParameter(5, 3)', lambda: f.setSystemParameter(5, 3), lambda r: r is True)
check('generateRandomNumber', lambda: (f.generateRandomNumber(), f.generateRandomNumber()), lambda r: r[0] != r[1])
check('setPassword(0x1234)', lambda: f.setPassword(0x1234), lambda r: r is True)
check('verifyPassword (new)', f.verifyPassword, lambda r: r is True)
check('setPassword(0)', lambda: f.setPassword(0), lambda r: r is True)
check('setAddress(0x12345678)', lambda: f.setAddress(0x12345678), lambda r: r is True)
check('getSystemParameters (addr)', f.getSystemParameters, lambda r: r[4] == 0x12345678)
check('setAddress(0xFFFFFFFF)', lambda: f.setAddress(0xFFFFFFFF), lambda r: r is True)
check('clearDatabase', f.clearDatabase, lambda r: r is True)
check('getTemplateCount', f.getTemplateCount, lambda r: r == 0)

# enrol a finger: two captures, createTemplate, storeTemplate (first free position)
check('readImage (no finger)', f.readImage, lambda r: r is False)
control({'op': 'place', 'nip': 'pyfp', 'finger': 1})
check('readImage', f.readImage, lambda r: r is True)
check('convertImage(1)', lambda: f.convertImage(FINGERPRINT_CHARBUFFER1), lambda r: r is True)
check('readImage (2nd)', f.readImage, lambda r: r is True)
check('convertImage(2)', lambda: f.convertImage(FINGERPRINT_CHARBUFFER2), lambda r: r is True)
check('compareCharacteristics', f.compareCharacteristics, lambda r: r > 0)
check('createTemplate', f.createTemplate, lambda r: r is True)
check('storeTemplate', f.storeTemplate, lambda r: r == 0)
check('storeTemplate(5, buffer 2)', lambda: f.storeTemplate(5, FINGERPRINT_CHARBUFFER2), lambda r: r == 5)
check('getTemplateIndex(0)', lambda: f.getTemplateIndex(0), lambda r: r[0] and r[5] and not r[1] and len(r) == 256)
check('getTemplateCount (2)', f.getTemplateCount, lambda r: r == 2)
check('loadTemplate(5, buffer 2)', lambda: f.loadTemplate(5, FINGERPRINT_CHARBUFFER2), lambda r: r is True)
check('downloadCharacteristics(2)', lambda: f.downloadCharacteristics(FINGERPRINT_CHARBUFFER2), lambda r: len(r) == 512)
with tempfile.TemporaryDirectory() as d:
    png = os.path.join(d, 'finger.png')
    check('downloadImage', lambda: (f.readImage(), f.downloadImage(png), os.path.getsize(png))[2], lambda r: r > 1000)
check('convertImage (after image)', lambda: f.convertImage(FINGERPRINT_CHARBUFFER1), lambda r: r is True)
check('searchTemplate (found)', f.searchTemplate, lambda r: r[0] in (0, 5) and r[1] > 0)
control({'op': 'place-unknown'})
f.readImage()
f.convertImage(FINGERPRINT_CHARBUFFER1)
check('searchTemplate (stranger)', f.searchTemplate, lambda r: r == (-1, -1))
check('compareCharacteristics (no)', f.compareCharacteristics, lambda r: r == 0)
control({'op': 'lift'})
check('deleteTemplate(5)', lambda: f.deleteTemplate(5), lambda r: r is True)
check('getTemplateCount (1)', f.getTemplateCount, lambda r: r == 1)


def raises(fn, text):
    """pyfingerprint turns a module's error code into an Exception: the right answer here."""
    try:
        fn()
    except Exception as e:
        return text in str(e)
    return False


check('loadTemplate (empty) 0x0C', lambda: raises(lambda: f.loadTemplate(7), 'could not be read'), lambda r: r is True)
check('getTemplateIndex(1)', lambda: f.getTemplateIndex(1), lambda r: not any(r))

rng = random.Random(args.seed)
intact = false_ = errors = 0
bad = []
t0 = time.time()
for i in range(args.uploads):
    tpl = [rng.randrange(256) for _ in range(512)]
    tpl[0], tpl[1] = 3, 1
    buf = FINGERPRINT_CHARBUFFER1 if i % 2 == 0 else FINGERPRINT_CHARBUFFER2
    try:
        if f.uploadCharacteristics(buf, tpl):
            intact += 1
        else:
            false_ += 1
            bad.append((i, buf))
    except Exception as e:
        errors += 1
        bad.append((i, buf, str(e)))
secs = time.time() - t0
print(f'uploadCharacteristics: {intact}/{args.uploads} read back intact, {false_} False, {errors} errors in {secs:.1f} s')

calls_ok = sum(1 for _, ok in results if ok)
summary = {'calls': len(results), 'calls_ok': calls_ok, 'uploads': args.uploads, 'intact': intact, 'false': false_, 'errors': errors, 'bad': bad[:10], 'upload_seconds': round(secs, 1)}
print(json.dumps(summary))
sys.exit(0 if calls_ok == len(results) and intact == args.uploads else 1)
