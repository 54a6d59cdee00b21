import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../lib/errors.js';

/**
 * BCM pin → sysfs GPIO number. Since Linux 6.6 Raspberry Pi OS no longer puts the SoC's GPIO chip
 * at base 0: it is 512 on a Pi 4 and 571 on a Pi 5 (RP1), so `new Gpio(17)` fails with EINVAL.
 * We read the base of the SoC's pin controller from /sys/class/gpio/gpiochip*\/{base,label,ngpio}.
 */
export interface GpioChip {
  name: string;
  base: number;
  ngpio: number;
  label: string;
}

/** Labels of the Raspberry Pi header's pin controller across models (BCM2835/6/7, BCM2711, RP1 on Pi 5). */
const PI_HEADER_CHIP = /^pinctrl-(bcm2835|bcm2711|bcm2712|rp1)$/;

export function listGpioChips(root: string): GpioChip[] {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => /^gpiochip\d+$/.test(n));
  } catch {
    return [];
  }
  const read = (dir: string, f: string) => {
    try {
      return readFileSync(join(root, dir, f), 'utf8').trim();
    } catch {
      return '';
    }
  };
  return names
    .map((name) => ({ name, base: Number(read(name, 'base')), ngpio: Number(read(name, 'ngpio')), label: read(name, 'label') }))
    .filter((c) => Number.isInteger(c.base) && c.base >= 0 && c.ngpio > 0)
    .sort((a, b) => a.base - b.base);
}

/** The header's chip: by label; failing that the lowest chip with enough lines for the 40-pin header. */
export function headerChip(chips: GpioChip[]): GpioChip | null {
  return chips.find((c) => PI_HEADER_CHIP.test(c.label)) ?? chips.find((c) => c.ngpio >= 28) ?? null;
}

export function resolveChipBase(root: string, configured: number | 'auto'): GpioChip {
  if (configured !== 'auto') return { name: 'configured', base: configured, ngpio: 54, label: 'gpio.chipBase' };
  const chip = headerChip(listGpioChips(root));
  if (!chip) throw new UserError(`no GPIO chip found under ${root} (is this a Raspberry Pi with sysfs GPIO?)`, 'set gpio.chipBase in kiosk.json, or gpio.enabled=false');
  return chip;
}

export function bcmToSysfs(bcm: number, chip: GpioChip): number {
  if (!Number.isInteger(bcm) || bcm < 0 || bcm >= chip.ngpio) throw new UserError(`BCM pin ${bcm} is outside ${chip.label || chip.name} (0–${chip.ngpio - 1})`, 'fix gpio.pins in kiosk.json');
  return chip.base + bcm;
}
