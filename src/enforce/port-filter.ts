/**
 * --enforce: while a port is not open, the kernel itself passes nothing but EAPOL (ethertype
 * 0x888e, IEEE 802.1X) in or out of it. One nftables table of family netdev per port, owned by
 * the daemon, with an ingress and an egress base chain on the device (egress hooks need Linux
 * 5.16); `nft list ruleset` shows it:
 *
 *   set closed { type ifname; }                  holds the port's name while it is not open
 *   chain ingress: ether type 0x888e accept; iifname @closed counter drop
 *   chain egress:  ether type 0x888e accept; oifname @closed counter drop
 *
 * `ether type` is the frame's own EtherType. `meta protocol` (skb->protocol) would not do: on
 * egress it is what a packet-socket sender bound its socket to, whatever the frame it writes.
 *
 * Lifting and closing change one set element, in one transaction each, which the daemon sends
 * itself where it can (src/enforce/nfnetlink.ts: it is on the path to UP). Every nft line sent changes
 * the ruleset, so that nft --echo answers it (src/enforce/nft.ts): nft stays silent about a
 * transaction that changes nothing. The order against the operstate is the daemon's
 * (src/daemon/managed-interface.ts): lift before UP is written, close once the kernel shows the
 * port not running (DORMANT was written, or carrier is gone), so that a consumer never sees a
 * RUNNING port that drops its packets. docs/consumers.md says which consumers need it.
 */
import { crypto } from '../os/builtin.js';
import type { NftRunner } from './nft.js';
import { Turns } from './turns.js';

export const EAPOL_ETHERTYPE = '0x888e';
/** Before anything else on the device (the netdev family's hooks run before the bridge and tc). */
const PRIORITY = -500;

/**
 * The table of IFNAME: dot1x_operstate_IFNAME. nft takes only [A-Za-z0-9_./] unquoted in a
 * table name (and no quoted one), while an interface name may hold '-', '@' and more: such a
 * name is reduced to its safe characters plus a short hash of the real one, so it stays unique.
 */
export function tableName(ifname: string): string {
  const safe = ifname.replace(/[^A-Za-z0-9_]/g, '_');
  if (safe === ifname) return `dot1x_operstate_${ifname}`;
  return `dot1x_operstate_${safe}_${crypto().createHash('sha256').update(ifname).digest('hex').slice(0, 8)}`;
}

/** One transaction that replaces any table of that name (e.g. a killed daemon's) with a fresh one. */
export function installLine(ifname: string, open: boolean): string {
  const table = tableName(ifname);
  const dev = JSON.stringify(ifname);
  const chain = (hook: 'ingress' | 'egress', match: 'iifname' | 'oifname'): string =>
    `add chain netdev ${table} ${hook} { type filter hook ${hook} device ${dev} priority ${PRIORITY}; policy accept; }; ` +
    `add rule netdev ${table} ${hook} ether type ${EAPOL_ETHERTYPE} accept; ` +
    `add rule netdev ${table} ${hook} ${match} @closed counter drop`;
  return [
    // The whole line is one transaction: a leftover table is replaced, never merged.
    removeLine(ifname),
    `add table netdev ${table} { comment ${JSON.stringify(`dot1x-operstate: while ${ifname} is not 802.1X-authorized only EAPOL passes`)}; }`,
    `add set netdev ${table} closed { type ifname; }`,
    ...(open ? [] : [`add element netdev ${table} closed { ${dev} }`]),
    chain('ingress', 'iifname'),
    chain('egress', 'oifname'),
  ].join('; ');
}

/** Deletes the table of IFNAME if there is one (the add makes the delete safe, and makes nft echo). */
export function removeLine(ifname: string): string {
  const table = tableName(ifname);
  return `add table netdev ${table}; delete table netdev ${table}`;
}

/** Lift (open) or put back (closed); add-then-delete so that the line changes something either way. */
export function filterLine(ifname: string, open: boolean): string {
  const element = `netdev ${tableName(ifname)} closed { ${JSON.stringify(ifname)} }`;
  const toggle = `add element ${element}; delete element ${element}`;
  return open ? toggle : `${toggle}; add element ${element}`;
}

/** Changes the set element directly (src/enforce/nfnetlink.ts). */
export interface ElementWriter {
  change(table: string, set: string, ifname: string, changes: Array<'add' | 'delete'>): Promise<void>;
  /** The change within this turn: true once committed, false when change() must do it. Throws the kernel's error. */
  changeNow?(table: string, set: string, ifname: string, changes: Array<'add' | 'delete'>): boolean;
}

/**
 * The filter of one port. Its operations go out one after the other in the order they were
 * asked for: the table's through the nft session, the lift and the close through ELEMENTS when
 * there is one (the nft session otherwise), after whatever of the table's is still under way.
 */
export class PortFilter {
  /** What the last transaction sent asked for (the kernel has it once that resolved). */
  private open = false;
  private installed = false;
  private readonly turns = new Turns();

  constructor(private ifname: string, private readonly session: NftRunner, private readonly elements?: ElementWriter) {}

  get isOpen(): boolean { return this.open; }

  /** Create the table (fresh, replacing a leftover), open or closed. Rejects with nft's error. */
  install(open: boolean): Promise<void> {
    this.open = open;
    return this.turns.run(async () => {
      await this.session.run(installLine(this.ifname, open));
      this.installed = true;
    });
  }

  /** Let everything pass. Resolves at once when the last request already did. */
  lift(): Promise<void> {
    if (this.open && this.installed) return Promise.resolve();
    this.open = true;
    return this.installed ? this.toggle(true) : this.install(true);
  }

  /**
   * The lift within this turn of the event loop, where nothing of this filter is under way and
   * the kernel commits it at once: true when the filter is lifted (now or before), false when it
   * must go through lift(). Throws the kernel's error (the filter then stays closed).
   */
  liftNow(): boolean {
    if (!this.turns.idle || !this.installed) return false;
    if (this.open) return true;
    if (this.elements?.changeNow === undefined) return false;
    const lifted = this.elements.changeNow(tableName(this.ifname), 'closed', this.ifname, ['add', 'delete']);
    if (lifted) this.open = true;
    return lifted;
  }

  /** Pass only EAPOL again. */
  close(): Promise<void> {
    if (!this.open && this.installed) return Promise.resolve();
    this.open = false;
    return this.installed ? this.toggle(false) : this.install(false);
  }

  /** The interface was renamed or replaced: a fresh table for NEWNAME (the old one removed). */
  async rebind(newName: string, open: boolean): Promise<void> {
    const old = this.ifname;
    this.ifname = newName;
    this.installed = false;
    await this.install(open);
    if (old !== newName) await this.turns.run(() => this.session.run(removeLine(old)));
  }

  /** Delete the table. */
  remove(): Promise<void> {
    this.installed = false;
    this.open = false;
    return this.turns.run(() => this.session.run(removeLine(this.ifname)));
  }

  get name(): string { return this.ifname; }

  private toggle(open: boolean): Promise<void> {
    const ifname = this.ifname;
    if (this.elements === undefined) return this.turns.run(() => this.session.run(filterLine(ifname, open)));
    const elements = this.elements;
    // The same changes as filterLine's, in one transaction.
    return this.turns.run(() => elements.change(tableName(ifname), 'closed', ifname, open ? ['add', 'delete'] : ['add']));
  }
}
