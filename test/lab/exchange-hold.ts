/**
 * Holding an EAP exchange between two of its frames, to place a request of the daemon at a
 * chosen point of it (docs/lab.md#holding-an-exchange): the peers are stopped and continued
 * (SIGSTOP, SIGCONT), and a frame is known to wait in a stopped peer when its EAPOL packet
 * socket holds receive memory (the Rmem column of /proc/PID/net/packet, read in the peer's own
 * network namespace). Nothing is timed: every step waits for the frame it needs.
 *
 * What a stopped peer does with what waited for it is the peer's business; wpa_supplicant 2.10
 * was seen to handle a frame that waited before a control request that came after it.
 */
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';

/** IEEE 802.1X's EtherType (PAE), as /proc/net/packet prints it. */
const ETH_P_PAE = '888e';

export interface HoldPeer {
  /** The peer's process (hostapd, wpa_supplicant). */
  proc: ChildProcess;
  /** ifindex of its port in its own namespace. */
  ifindex: number;
}

export type Side = 'switch' | 'supplicant';

/** Bytes of EAPOL frames waiting in the packet sockets PID has on IFINDEX. */
export function eapolWaiting(pid: number, ifindex: number): number {
  const text = readFileSync(`/proc/${pid}/net/packet`, 'utf8');
  let bytes = 0;
  // sk RefCnt Type Proto Iface R Rmem User Inode
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 9 && f[3]!.toLowerCase() === ETH_P_PAE && Number(f[4]) === ifindex) bytes += Number(f[6]);
  }
  return bytes;
}

/** Polls CHECK every few milliseconds until it holds; rejects after timeoutMs naming WHAT. */
export async function pollUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export class ExchangeHold {
  private readonly stopped = new Set<Side>();

  /** Both peers are continued after the test, also when it fails. */
  constructor(private readonly peers: Record<Side, HoldPeer>, t: TestContext) {
    t.after(() => { for (const side of [...this.stopped]) this.resume(side); });
  }

  pause(side: Side): void {
    this.peers[side].proc.kill('SIGSTOP');
    this.stopped.add(side);
  }

  resume(side: Side): void {
    this.peers[side].proc.kill('SIGCONT');
    this.stopped.delete(side);
  }

  /** Bytes of EAPOL frames waiting at SIDE's port. */
  waiting(side: Side): number {
    const p = this.peers[side];
    return eapolWaiting(p.proc.pid!, p.ifindex);
  }

  /** Waits until a frame waits at SIDE (which should be stopped, or it reads it at once). */
  frameAt(side: Side, what: string): Promise<void> {
    return pollUntil(() => this.waiting(side) > 0, `${what} waiting at the ${side}`);
  }

  /**
   * Runs the switch-initiated exchange START begins (an EAPOL_REAUTH) one frame at a time,
   * until the supplicant has sent its EAP-MD5 response and the stopped switch holds it: the
   * supplicant waits in AUTHENTICATING, and the switch's next frame is its verdict. Leaves the
   * switch stopped and the supplicant running.
   */
  async toVerdict(start: () => Promise<void>): Promise<void> {
    this.pause('supplicant');
    await start();
    await this.frameAt('supplicant', 'EAP-Request/Identity');
    this.pause('switch');
    this.resume('supplicant');
    await this.frameAt('switch', 'EAP-Response/Identity');
    this.pause('supplicant');
    this.resume('switch');
    await this.frameAt('supplicant', 'the EAP-MD5 challenge');
    this.pause('switch');
    this.resume('supplicant');
    await this.frameAt('switch', 'the EAP-MD5 response');
  }

  /**
   * After toVerdict(): the switch decides and sends its verdict, which waits in the stopped
   * supplicant. Leaves the supplicant stopped and the switch running.
   */
  async verdictWaiting(): Promise<void> {
    this.pause('supplicant');
    this.resume('switch');
    await this.frameAt('supplicant', 'the switch\'s verdict');
  }
}
