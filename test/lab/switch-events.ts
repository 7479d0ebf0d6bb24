/**
 * What the switch (hostapd) says while a scenario runs: its control-interface events
 * (CTRL-EVENT-EAP-STARTED / -SUCCESS / -FAILURE <mac>, AP-STA-CONNECTED, ...), each put on the
 * port's LinkWatch timeline as a note when it reaches the test. hostapd sends
 * CTRL-EVENT-EAP-SUCCESS as it sends the EAP-Success to the port, and everything that follows
 * from it (wpa_supplicant, the daemon, the kernel's RTM_NEWLINK) comes later, on other sockets
 * of this same process, whose readiness the kernel reports in the order it arose: a port that
 * opens "after a fresh success" has that note before its UP on the timeline. The events come
 * over hostapd's control socket, which speaks wpa_supplicant's protocol (src/wpa/ctrl.ts).
 */
import { join } from 'node:path';
import { WpaCtrl } from '../../src/wpa/ctrl.js';
import type { Switch } from './hostapd.js';
import type { LinkWatch } from './link-watch.js';
import { Sightings } from './sightings.js';

export interface SwitchEvent {
  /** Its position on the LinkWatch timeline (the note). */
  at: number;
  atMs: number;
  /** The first word: CTRL-EVENT-EAP-SUCCESS, ... */
  name: string;
  text: string;
}

export class SwitchEvents {
  private readonly seen = new Sightings<SwitchEvent>();
  private constructor(private readonly ctrl: WpaCtrl) {}

  /** Every event so far, in order. */
  get events(): readonly SwitchEvent[] { return this.seen.items; }

  /** Attach to SW's control socket; events count from now, and go on WATCH's timeline. */
  static async attach(sw: Switch, watch: LinkWatch): Promise<SwitchEvents> {
    const ctrl = await WpaCtrl.open(join(sw.ctrlDir, sw.ifname));
    const s = new SwitchEvents(ctrl);
    ctrl.on('event', (ev) => {
      const at = watch.mark(`switch: ${ev.text}`);
      s.seen.push({ at, atMs: watch.now(), name: ev.name, text: ev.text });
    });
    return s;
  }

  mark(): number { return this.events.length; }

  /** Events named NAME from position FROM on. */
  since(from: number, name?: string): SwitchEvent[] {
    return this.events.slice(from).filter((e) => name === undefined || e.name === name);
  }

  /** The first event NAME from FROM on (seen or to come); rejects after timeoutMs. */
  waitFor(name: string, opts: { from?: number; timeoutMs?: number } = {}): Promise<SwitchEvent> {
    return this.seen.first((e) => e.name === name, {
      from: opts.from ?? 0,
      timeoutMs: opts.timeoutMs ?? 20_000,
      failure: (ms) => `switch: no ${name} within ${ms} ms; its events:\n${this.format()}`,
    });
  }

  format(events: readonly SwitchEvent[] = this.events): string {
    return events.map((e) => `+${String(e.atMs).padStart(6)} ms  switch: ${e.text}`).join('\n');
  }

  close(): void { this.ctrl.close(); }
}
