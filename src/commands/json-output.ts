/**
 * The --json form of what `status` and `doctor` print. Its strings quote the daemon, the
 * authentication peer, other programs and paths read from /proc, and whoever reads the JSON
 * will print them: each is escaped as the text form escapes it (src/text/printable.ts), so a
 * consumer never gets a raw control character from us.
 */
import { printable } from '../text/printable.js';

export function printableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? printable(v) : v));
}
