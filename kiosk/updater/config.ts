import { z } from 'zod';

/** kiosk.json `update` section: the updater's settings (it reads the same file as the kiosk). */
export const updateConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Holds releases/<version> and the `current` link (provisioning's layout). */
  root: z.string().min(1).default('/opt/hadir'),
  /** The release public key (`hadir release keygen`), installed by provisioning; never taken from the hub. */
  publicKeyFile: z.string().min(1).default('/etc/hadir/release-key.pub'),
  /** The updater's own state and downloads. */
  stateDir: z.string().min(1).default('/var/lib/hadir-updater'),
  pollS: z.number().min(1).default(300),
  /** From the switch to "healthy": READY, journal ok, MQTT connected, roster loaded, hub sees the version. */
  confirmTimeoutS: z.number().min(5).default(120),
  /** How the kiosk is restarted: systemctl (production) or SIGTERM to the kiosk's pid, for a supervisor that restarts it (tests, other init systems). */
  restart: z.enum(['systemd', 'signal']).default('systemd'),
  unit: z.string().default('hadir-kiosk.service'),
  /** User the kiosk runs as: the journal migration runs as this user (files stay the kiosk's). Empty: the updater's own user. */
  kioskUser: z.string().default('hadir'),
  /** For bundles built without node_modules (tests): the tree each release links to. */
  nodeModulesDir: z.string().optional(),
});
export type UpdateConfig = z.output<typeof updateConfigSchema>;
