import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rootLogger } from '../../lib/logger.js';
import { bcmToSysfs, headerChip, listGpioChips, resolveChipBase } from '../../kiosk/gpio/chip.js';
import { gpioConfigSchema } from '../../kiosk/gpio/config.js';
import { FakeGpio } from '../../kiosk/gpio/lines.js';
import { GpioFeedback } from '../../kiosk/gpio/extension.js';
import { PATTERNS } from '../../kiosk/gpio/patterns.js';
import { isUserError } from '../../lib/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fake /sys/class/gpio tree with the given chips. */
function sysfs(chips: { base: number; ngpio: number; label: string }[]): string {
  const root = mkdtempSync(join(tmpdir(), 'hadir-gpio-'));
  dirs.push(root);
  writeFileSync(join(root, 'export'), '');
  for (const c of chips) {
    const d = join(root, `gpiochip${c.base}`);
    mkdirSync(d);
    writeFileSync(join(d, 'base'), `${c.base}\n`);
    writeFileSync(join(d, 'ngpio'), `${c.ngpio}\n`);
    writeFileSync(join(d, 'label'), `${c.label}\n`);
  }
  return root;
}

describe('BCM → sysfs GPIO numbers from the gpiochip base', () => {
  it('Pi 4 on kernel ≥ 6.6: base 512 (the expander at 570 is ignored)', () => {
    const root = sysfs([
      { base: 570, ngpio: 8, label: 'raspberrypi-exp-gpio' },
      { base: 512, ngpio: 58, label: 'pinctrl-bcm2711' },
    ]);
    const chip = resolveChipBase(root, 'auto');
    expect(chip.base).toBe(512);
    expect(bcmToSysfs(17, chip)).toBe(529);
  });

  it('Pi 5: the RP1 header chip at 571, not the SoC brcmstb chips at lower bases', () => {
    const root = sysfs([
      { base: 512, ngpio: 32, label: 'gpio-brcmstb@107d508500' },
      { base: 544, ngpio: 4, label: 'gpio-brcmstb@107d508520' },
      { base: 571, ngpio: 54, label: 'pinctrl-rp1' },
    ]);
    expect(bcmToSysfs(27, resolveChipBase(root, 'auto'))).toBe(598);
  });

  it('old kernels: base 0; a configured base overrides detection', () => {
    const root = sysfs([{ base: 0, ngpio: 54, label: 'pinctrl-bcm2835' }]);
    expect(bcmToSysfs(22, resolveChipBase(root, 'auto'))).toBe(22);
    expect(bcmToSysfs(22, resolveChipBase(root, 512))).toBe(534);
    expect(headerChip(listGpioChips(root))?.label).toBe('pinctrl-bcm2835');
  });

  it('no chip, or a pin beyond the chip, is a UserError naming the fix', () => {
    const empty = sysfs([]);
    expect(() => resolveChipBase(empty, 'auto')).toThrow(/no GPIO chip found.*gpio.chipBase/);
    const chip = resolveChipBase(sysfs([{ base: 571, ngpio: 54, label: 'pinctrl-rp1' }]), 'auto');
    try {
      bcmToSysfs(60, chip);
      expect.unreachable();
    } catch (e) {
      expect(isUserError(e)).toBe(true);
    }
  });

  it('config rejects two functions on one pin', () => {
    expect(() => gpioConfigSchema.parse({ pins: { greenLed: 5, redLed: 5 } })).toThrow(/own pin/);
  });
});

describe('GpioFeedback on the fake backend', () => {
  const chip = { name: 'gpiochip512', base: 512, ngpio: 58, label: 'pinctrl-bcm2711' };
  const config = gpioConfigSchema.parse({ pins: { doorRelay: 23, tamper: 24 }, doorOpenMs: 100, activeLow: ['doorRelay'] });

  it('plays each pattern on the mapped sysfs numbers and ends with everything off', async () => {
    const fake = new FakeGpio();
    const fb = new GpioFeedback(fake, config, chip, rootLogger);
    await fb.notify({ kind: 'recorded', nip: '1', name: 'A', at: 'x', method: 'finger' });
    const lines = (n: string) => fake.driven.filter((d) => d.name === n).map((d) => d.value);
    expect(lines('greenLed')).toEqual([1, 0]);
    expect(lines('buzzer')).toEqual([1, 0]);
    expect(fake.driven.find((d) => d.name === 'greenLed')?.sysfs).toBe(529);
    // door relay pulsed for a recognised person, then released
    expect(lines('doorRelay')).toEqual([1, 0]);
    const door = fake.driven.filter((d) => d.name === 'doorRelay');
    expect(door[1]!.t - door[0]!.t).toBeGreaterThanOrEqual(95); // doorOpenMs

    fake.driven.length = 0;
    await fb.notify({ kind: 'already', nip: '1', name: 'A', at: 'x', firstAt: 'y' });
    expect(lines('buzzer')).toEqual([1, 0, 1, 0]); // two beeps

    fake.driven.length = 0;
    await fb.notify({ kind: 'unknown', reason: 'x' });
    expect(lines('redLed')).toEqual([1, 0]);
    expect(lines('greenLed')).toEqual([]);
    expect(lines('doorRelay')).toEqual([]); // never for a stranger
    const beep = fake.driven.filter((d) => d.name === 'buzzer');
    expect(beep[1]!.t - beep[0]!.t).toBeGreaterThanOrEqual(PATTERNS.unknown[0]!.ms - 5); // the long beep

    // guidance ("move closer") drives nothing: it is not a failure
    fake.driven.length = 0;
    await fb.notify({ kind: 'hint', message: 'Wajah terlalu kecil / Face too small' });
    expect(fake.driven).toEqual([]);

    fake.driven.length = 0;
    await fb.notify({ kind: 'fault', component: 'finger', detail: 'x' });
    expect(lines('buzzer')).toEqual([1, 0, 1, 0, 1, 0]);
    expect(fb.lastPattern).toBe('fault');
    await fb.close();
  });

  it('a newer event cuts the running pattern short', async () => {
    const fake = new FakeGpio();
    const fb = new GpioFeedback(fake, config, chip, rootLogger);
    const first = fb.notify({ kind: 'unknown', reason: 'x' });
    await new Promise((r) => setTimeout(r, 50));
    await fb.notify({ kind: 'recorded', nip: '1', name: 'A', at: 'x', method: 'face' });
    await first;
    expect(fake.level('redLed')).toBe(0);
    expect(fake.level('greenLed')).toBe(0);
    await fb.close();
  });

  it('tamper input: casing opened → fault in health and callback; closed → ok', async () => {
    const fake = new FakeGpio();
    const events: boolean[] = [];
    const fb = new GpioFeedback(fake, config, chip, rootLogger, (open) => events.push(open));
    expect(fb.state().state).toBe('ok');
    fake.setInput('tamper', 1);
    expect(fb.state()).toMatchObject({ state: 'fault', detail: expect.stringContaining('tamper') });
    fake.setInput('tamper', 0);
    expect(fb.state().state).toBe('ok');
    expect(events).toEqual([true, false]);
    await fb.close();
  });
});
