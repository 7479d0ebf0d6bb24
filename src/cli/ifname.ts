import { UsageError } from './errors.js';

/** IFNAMSIZ (include/uapi/linux/if.h) counts the terminating NUL. */
const IFNAMSIZ = 16;

/**
 * Bytes the kernel's isspace() accepts (lib/ctype.c marks 0x09-0x0d, 0x20 and 0xa0 as space).
 * The kernel tests bytes, not characters, so a UTF-8 sequence containing 0xa0 is refused too.
 */
function isKernelSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d) || byte === 0xa0;
}

/**
 * Why the kernel would refuse NAME as an interface name, or null when it is valid.
 * Mirrors dev_valid_name() in net/core/dev.c: 1 to 15 bytes, not "." or "..", no '/', no ':'
 * (current kernels refuse it: it would be read as an IPv4 alias label), no whitespace. A NUL would truncate the name
 * on the way to the kernel, so it is refused as well.
 */
export function ifnameProblem(name: string): string | null {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0) return 'it is empty';
  if (bytes.length >= IFNAMSIZ) return `it is ${bytes.length} bytes long, the kernel allows at most ${IFNAMSIZ - 1}`;
  if (name === '.' || name === '..') return `"${name}" is reserved`;
  for (const byte of bytes) {
    if (byte === 0x2f) return "it contains '/'";
    if (byte === 0x3a) return "it contains ':'";
    if (byte === 0x00) return 'it contains a NUL byte';
    if (isKernelSpace(byte)) return 'it contains whitespace';
  }
  return null;
}

/** Throws UsageError('EIFNAME') with a message naming the problem when NAME is not a valid interface name. */
export function validateIfname(name: string): string {
  const problem = ifnameProblem(name);
  if (problem !== null) {
    throw new UsageError('EIFNAME', `invalid interface name ${JSON.stringify(name)}: ${problem}`);
  }
  return name;
}
