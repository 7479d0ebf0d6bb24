import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRunOptions, DEFAULTS, type RawRunOptions } from '../src/cli/options.js';
import { UsageError } from '../src/cli/errors.js';

function usage(raw: RawRunOptions, message: RegExp): void {
  assert.throws(() => validateRunOptions(raw), (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
}

test('defaults follow the issue: wpa-supplicant in /run/wpa_supplicant, 30 s, info, json', () => {
  const c = validateRunOptions({ ifname: ['eth0'] });
  assert.deepEqual(c.ifnames, ['eth0']);
  assert.deepEqual(c.auth, { kind: 'wpa-supplicant', wpaCtrl: '/run/wpa_supplicant' });
  assert.equal(c.timing.authTimeoutMs, 30_000);
  assert.equal(c.timing.retryMinMs, DEFAULTS.retryMin * 1000);
  assert.equal(c.timing.retryMaxMs, DEFAULTS.retryMax * 1000);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.logFormat, 'auto');
  assert.equal(c.runDir, undefined);
});

test('seconds accept fractions and become milliseconds', () => {
  const c = validateRunOptions({ ifname: ['eth0'], authTimeout: '2.5', retryMin: '0.25', retryMax: '1.5' });
  assert.equal(c.timing.authTimeoutMs, 2500);
  assert.equal(c.timing.retryMinMs, 250);
  assert.equal(c.timing.retryMaxMs, 1500);
});

test('a --retry-min above the default maximum lifts the maximum when --retry-max is not given', () => {
  const c = validateRunOptions({ ifname: ['eth0'], retryMin: '600' });
  assert.equal(c.timing.retryMinMs, 600_000);
  assert.equal(c.timing.retryMaxMs, 600_000);
});

test('every bad value is one UsageError naming the option', () => {
  usage({ ifname: ['eth0'], authTimeout: '0' }, /--auth-timeout must be a positive number/);
  usage({ ifname: ['eth0'], authTimeout: 'abc' }, /--auth-timeout must be a positive number of seconds \(got "abc"\)/);
  usage({ ifname: ['eth0'], retryMin: '-1' }, /--retry-min must be a positive/);
  usage({ ifname: ['eth0'], retryMax: 'Infinity' }, /--retry-max must be a positive/);
  usage({ ifname: ['eth0'], retryMin: '3', retryMax: '2' }, /--retry-min \(3\) must not exceed --retry-max \(2\)/);
  usage({ ifname: ['eth0'], authTimeout: '1e10' }, /at most 2147483 seconds/);
  usage({ ifname: ['eth0'], retryMin: '0.0001' }, /at least 0.001 seconds/);
  usage({ ifname: ['eth0'], logLevel: 'verbose' }, /--log-level must be one of trace, debug, info, warn, error/);
  usage({ ifname: ['eth0'], logFormat: 'xml' }, /--log-format must be one of auto, json, journal, pretty/);
  usage({ ifname: ['eth0'], auth: 'radius' }, /--auth must be one of wpa-supplicant, exec, module/);
  usage({ ifname: ['eth0'], auth: 'exec' }, /--auth exec needs --exec PATH/);
  usage({ ifname: ['eth0'], auth: 'module' }, /--auth module needs --module PATH/);
  usage({ ifname: ['eth0'], exec: '/bin/true' }, /--exec and --exec-arg are only used with --auth exec/);
  usage({ ifname: ['eth0'], auth: 'exec', exec: '/bin/true', module: '/x.js' }, /--module is only used with --auth module/);
  usage({ ifname: ['eth0'], auth: 'exec', exec: '/bin/true', wpaCtrl: '/run/x' }, /--wpa-ctrl is only used with --auth wpa-supplicant/);
  usage({ ifname: [] }, /name at least one interface/);
  usage({ ifname: ['eth0', 'eth0'] }, /eth0 is named twice/);
  usage({ ifname: ['eth0', 'bad/name'] }, /invalid interface name "bad\/name"/);
});

test('--start-period: 5 s by default with wpa_supplicant, fractions allowed, maxStart 3; --optional off by default', () => {
  const c = validateRunOptions({ ifname: ['eth0'] });
  assert.equal(c.timing.startPeriodMs, 5_000);
  assert.equal(c.timing.maxStart, 3);
  assert.equal(c.optional, false);
  const d = validateRunOptions({ ifname: ['eth0'], startPeriod: '1.5', optional: true });
  assert.equal(d.timing.startPeriodMs, 1_500);
  assert.equal(d.optional, true);
  const e = validateRunOptions({ ifname: ['eth0'], auth: 'exec', exec: '/bin/true' });
  assert.equal(e.timing.startPeriodMs, undefined, 'no start period where the backend cannot say who answered');
  usage({ ifname: ['eth0'], startPeriod: '0' }, /--start-period must be a positive number of seconds/);
  usage({ ifname: ['eth0'], auth: 'exec', exec: '/bin/true', startPeriod: '2' }, /--start-period is only used with --auth wpa-supplicant/);
  usage({ ifname: ['eth0'], auth: 'exec', exec: '/bin/true', optional: true }, /--optional is only used with --auth wpa-supplicant/);
});

test('an option given twice: the last one wins (wrappers append overrides)', () => {
  const c = validateRunOptions({ ifname: ['eth0'], retryMin: ['1', '30'], retryMax: ['3', '30'], logLevel: ['debug', 'trace'] });
  assert.equal(c.timing.retryMinMs, 30_000);
  assert.equal(c.timing.retryMaxMs, 30_000);
  assert.equal(c.logLevel, 'trace');
});

test('exec and module paths are made absolute; exec args are kept in order', () => {
  const e = validateRunOptions({ ifname: ['eth0', 'eth1'], auth: 'exec', exec: 'bin/auth', execArg: ['-a', 'b'] });
  assert.deepEqual(e.ifnames, ['eth0', 'eth1']);
  assert.equal(e.auth.kind, 'exec');
  assert.ok(e.auth.kind === 'exec' && e.auth.path.startsWith('/') && e.auth.path.endsWith('/bin/auth'));
  assert.ok(e.auth.kind === 'exec' && e.auth.args.join(' ') === '-a b');
  const m = validateRunOptions({ ifname: ['eth0'], auth: 'module', module: './m.js' });
  assert.ok(m.auth.kind === 'module' && m.auth.path.startsWith('/'));
});

test('--enforce is on, --no-enforce off, neither auto (decided at start); --hook-dir defaults to /etc/dot1x-operstate/hooks.d and is made absolute; --hook-timeout is seconds', () => {
  const c = validateRunOptions({ ifname: ['eth0'] });
  assert.equal(c.enforce, 'auto');
  assert.equal(validateRunOptions({ ifname: ['eth0'], enforce: false }).enforce, 'off');
  assert.equal(validateRunOptions({ ifname: ['eth0'], enforce: [true, false] }).enforce, 'off', 'the last one wins');
  assert.equal(c.hookDir, '/etc/dot1x-operstate/hooks.d');
  assert.equal(c.hookTimeoutMs, DEFAULTS.hookTimeout * 1000);
  const d = validateRunOptions({ ifname: ['eth0'], enforce: true, hookDir: 'hooks', hookTimeout: '2.5' });
  assert.equal(d.enforce, 'on');
  assert.equal(d.hookDir, `${process.cwd()}/hooks`);
  assert.equal(d.hookTimeoutMs, 2500);
  usage({ ifname: ['eth0'], hookTimeout: '0' }, /--hook-timeout must be a positive number of seconds/);
  usage({ ifname: ['eth0'], hookDir: '' }, /--hook-dir needs a value/);
});
