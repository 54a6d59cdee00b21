import type { IdentificationSource, Identification } from '../../kiosk/types.js';

/** A source the test drives by hand (what the face/finger pipelines do through ctx.addSource). */
export class HandSource implements IdentificationSource {
  readonly component = 'hand';
  emit: (id: Identification) => void | Promise<void> = () => {};
  async start(on: (id: Identification) => void | Promise<void>) {
    this.emit = on;
  }
  async stop() {}
  state() {
    return { state: 'ok' as const };
  }
}
