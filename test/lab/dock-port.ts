/**
 * A port that appears in a running system lab, as a dock's or a USB adapter's does
 * (docs/lab.md#udev-in-the-system-lab): a veth pair made while the lab runs, its switch end in
 * the lab's switch namespace with a hostapd (the switch port) and dnsmasq (the DHCP server behind
 * it) of its own, and its host end made in a namespace of its own, under a name the kernel gives
 * (vethN, NET_NAME_ENUM, as ethN for a USB adapter), then moved into the lab's network namespace:
 * there the kernel announces it with an "add" uevent, which the lab's udevd handles like any new
 * device. Both ends have the same ifindex where it is free (the NIC-like pair, docs/lab.md).
 *
 * Two LinkWatches follow it in the lab: one under the kernel's name (until udev renames it) and
 * one under its final name, which also carries the switch's events and dnsmasq's DHCP lines as
 * notes, so "no DHCP before the EAP-Success" is an order on one timeline.
 */
import { randomInt } from 'node:crypto';
import type { TestContext } from 'node:test';
import { Netns, uniqueSuffix } from './netns.js';
import { LinkWatch } from './link-watch.js';
import { trackDir } from './lab.js';
import { startSwitch, type EapUser, type Switch } from './hostapd.js';
import { startDnsmasq, type DhcpServer } from './dhcp.js';
import { SwitchEvents } from './switch-events.js';
import type { SystemLab } from './system-lab.js';

export interface DockPortOptions {
  /** The port's MAC (a .link file in the lab can name it by this). */
  mac: string;
  /** The name udev gives it in the lab (e.g. enx<MAC>, as 73-usb-net-by-mac.link does). */
  name: string;
  users: EapUser[];
  /** dnsmasq's address on the switch end; the pool is .10 to .50 of its /24. */
  serverCidr: string;
}

export class DockPort {
  private constructor(
    readonly name: string,
    readonly kernelName: string,
    readonly mac: string,
    readonly swIfname: string,
    /** Where the host end waits until it is plugged in. */
    private readonly park: Netns,
    private readonly lab: SystemLab,
    /** The port under its final name in the lab: link records, the switch's events, DHCP lines. */
    readonly watch: LinkWatch,
    /** The port under the kernel's name in the lab, before udev renames it. */
    readonly kernelWatch: LinkWatch,
    readonly hostapd: Switch,
    readonly switchEvents: SwitchEvents,
    readonly dhcp: DhcpServer,
  ) {}

  /** The pair, the switch and the DHCP server, ready; the port not plugged in yet. */
  static async create(lab: SystemLab, o: DockPortOptions, t: TestContext): Promise<DockPort> {
    const park = await Netns.create('dck', t);
    const swIfname = `dk${uniqueSuffix()}`;
    for (let attempt = 0; ; attempt++) {
      const index = String(randomInt(1000, 60_000));
      try {
        await park.ip('link', 'add', 'address', o.mac, 'index', index, 'type', 'veth', 'peer', 'name', swIfname, 'netns', lab.sw.name, 'index', index);
        break;
      } catch (e) {
        if (attempt >= 5) throw e;
      }
    }
    const kernelName = String((await park.links()).find((l) => l.address === o.mac)?.ifname);
    if (!/^veth\d+$/.test(kernelName)) throw new Error(`dock port: the kernel named it ${kernelName}`);
    await lab.sw.ip('link', 'set', swIfname, 'up');
    const watch = await LinkWatch.open(lab.host, o.name, { t, epoch: lab.epoch });
    const kernelWatch = await LinkWatch.open(lab.host, kernelName, { t, epoch: lab.epoch });
    const sw = await startSwitch(lab.sw, { ifname: swIfname, users: o.users }, t);
    t.after(trackDir(sw.dir));
    const switchEvents = await SwitchEvents.attach(sw, watch);
    t.after(() => switchEvents.close());
    const base = o.serverCidr.replace(/\.\d+\/\d+$/, '');
    const dhcp = await startDnsmasq(lab.sw, swIfname, { serverCidr: o.serverCidr, range: [`${base}.10`, `${base}.50`], noPing: true, t });
    dhcp.child.onLine((line) => { if (/DHCP[A-Z]+\(/.test(line)) watch.mark(`dnsmasq: ${line.replace(/^dnsmasq-dhcp(\[\d+\])?: /, '')}`); });
    return new DockPort(o.name, kernelName, o.mac, swIfname, park, lab, watch, kernelWatch, sw, switchEvents, dhcp);
  }

  /** Plugged in: the host end moves into the lab's network namespace ("add" uevent there). */
  async plug(): Promise<number> {
    const at = this.watch.mark(`plugged in (${this.kernelName} into the lab)`);
    await this.park.ip('link', 'set', this.kernelName, 'netns', this.lab.host.name);
    return at;
  }

  /** Unplugged: the host end goes away ("remove" uevent, RTM_DELLINK). */
  async unplug(): Promise<number> {
    const at = this.watch.mark('unplugged');
    await this.lab.host.ip('link', 'del', this.name);
    return at;
  }
}
