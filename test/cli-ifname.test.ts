import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ifnameProblem, validateIfname } from '../src/cli/ifname.js';
import { UsageError } from '../src/cli/errors.js';

test('interface names the kernel accepts (dev_valid_name)', () => {
  for (const name of ['eth0', 'a', 'enp0s31f6', 'x'.repeat(15), 'eth0.100', 'br-lan', 'ä', '...', '-']) {
    assert.equal(ifnameProblem(name), null, name);
  }
});

test('interface names the kernel refuses, each with its reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['x'.repeat(16), /16 bytes long.*at most 15/],
    // 8 two-byte characters: 8 characters but 16 bytes, so too long for IFNAMSIZ.
    ['ä'.repeat(8), /16 bytes long/],
    ['.', /reserved/],
    ['..', /reserved/],
    ['a/b', /'\/'/],
    ['eth0:1', /':'/],
    ['eth 0', /whitespace/],
    ['eth0\t', /whitespace/],
    ['eth0\n', /whitespace/],
    ['eth\v0', /whitespace/],
    // The kernel's isspace() also takes 0xa0, which is the second byte of U+00E0 in UTF-8.
    ['\u00e0', /whitespace/],
    ['a\0b', /NUL/],
  ];
  for (const [name, reason] of cases) {
    const problem = ifnameProblem(name);
    assert.ok(problem !== null, `${JSON.stringify(name)} should be refused`);
    assert.match(problem, reason, JSON.stringify(name));
  }
});

test('validateIfname throws a UsageError naming the name and the problem', () => {
  assert.equal(validateIfname('eth0'), 'eth0');
  assert.throws(() => validateIfname('a/b'), (err: unknown) =>
    err instanceof UsageError && err.code === 'EIFNAME' && /invalid interface name "a\/b": it contains '\/'/.test(err.message));
});
