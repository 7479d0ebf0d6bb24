/**
 * The test build of the netlink addon (native/netlink target dot1x_netlink_test, never shipped):
 * a link dump received synchronously with nothing parsed. The baseline of the dump benchmark
 * and the source of the parser tests' captures.
 */
import { loadAddon, osCall } from '../src/os/native-addon.js';

interface NativeRawDump {
  rawDump(netns: string | null, capture: false): number;
  rawDump(netns: string | null, capture: true): Buffer;
}

let native: NativeRawDump | undefined;
function load(): NativeRawDump {
  native ??= loadAddon<NativeRawDump>('netlink', 'dot1x_netlink_test.node');
  return native;
}

/**
 * The same RTM_GETLINK dump request as RouteSocket#dumpLinks, on a socket of its own in NETNS (a
 * namespace path; default ours), received synchronously: the bytes of the reply. Blocks the thread.
 */
export function rawDump(netns?: string): number {
  return osCall('rawDump', netns, () => load().rawDump(netns ?? null, false));
}

/** The same, returning the reply's bytes (its datagrams concatenated, as received). */
export function captureDump(netns?: string): Uint8Array {
  // A plain Uint8Array copy: a Buffer may share memory with a pool.
  return new Uint8Array(osCall('captureDump', netns, () => load().rawDump(netns ?? null, true)));
}
