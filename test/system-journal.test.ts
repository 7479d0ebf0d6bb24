/**
 * Logs under journald, with the unit as shipped (docs/logging.md): each line of the daemon is
 * stored at its syslog priority and reads as a sentence; `journalctl -p warning` shows a
 * credential the switch rejected and no routine line; JSON stays available with --log-format json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { is } from './lab/link-watch.js';
import { sharedSystemLab } from './lab/system-lab.js';
import { entry, type JournalEntry } from './lab/journal.js';
import { DEFAULT_IDENTITY, DEFAULT_PASSWORD } from './lab/lab.js';

const UNIT = 'dot1x-operstate@eth0.service';
const lab = sharedSystemLab({ prefix: 'sjl' });

/** journalctl ARGS -o json inside the lab, one object per entry. */
async function journal(l: Awaited<ReturnType<typeof lab>>, args: string[]): Promise<Array<Record<string, unknown>>> {
  const r = await l.exec('journalctl', ['--no-pager', '-o', 'json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((s) => s.startsWith('{')).map((s) => JSON.parse(s) as Record<string, unknown>);
}

const text = (e: Record<string, unknown>): string => String(e.MESSAGE);

test('under journald: priorities, sentences, and journalctl -p warning shows the rejected credential and no routine line', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  const started = l.note('systemctl start dot1x-operstate@eth0');
  await l.systemctl('start', UNIT);
  await l.watch.until(is.open(), 'the port open', { since: started, timeoutMs: 20_000 });
  // Routine: a cable pulled and put back, and a re-authentication asked for.
  await l.carrierBounce();
  await l.watch.until(is.open(), 'the port open again after the bounce', { timeoutMs: 20_000 });
  l.note('systemctl reload');
  const reloadMark = l.journal.mark();
  await l.systemctl('reload', UNIT);
  await l.journal.waitFor(entry.fromUnit(UNIT, /^eth0: authentication succeeded event=authFinished attempt=\d+$/), 'the re-authentication after reload', { from: reloadMark });
  // (A re-authentication keeps the port open while it runs: nothing to see on the link.)

  // The switch stops accepting the host's password; a reload makes the daemon try again.
  await l.setUsers([{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not-the-one-the-host-has' }]);
  await l.systemctl('reload', UNIT);
  const failed = await l.journal.waitFor(entry.fromUnit(UNIT, /authentication failed/), 'the rejected credential', { timeoutMs: 20_000 });
  assert.match(failed.message,
    /^eth0: authentication failed: credentials rejected by the switch \(EAP-Failure from the authenticator\); next attempt in \d+ s event=authFinished attempt=\d+ cause=credentials-rejected$/);
  assert.equal(failed.fields.PRIORITY, '4');

  const warnings = await journal(l, ['-p', 'warning', '-u', UNIT]);
  const fromDaemon = warnings.filter((e) => e._SYSTEMD_UNIT === UNIT);
  assert.ok(fromDaemon.length > 0, 'journalctl -p warning shows nothing of the daemon');
  assert.deepEqual(fromDaemon.filter((e) => !/authentication failed: credentials rejected by the switch/.test(text(e))).map(text), [],
    'journalctl -p warning shows routine lines');
  // systemd says nothing at warning about a unit that merely started and reloaded.
  assert.deepEqual(warnings.filter((e) => e._SYSTEMD_UNIT !== UNIT).map(text), []);

  const all = await journal(l, ['_SYSTEMD_UNIT=' + UNIT]);
  const priority = (re: RegExp): string[] => [...new Set(all.filter((e) => re.test(text(e))).map((e) => String(e.PRIORITY)))];
  assert.deepEqual(priority(/^eth0: state authorized\.steady \(after \d+ ms in authenticating\.exchanging\) attempt=\d+$/), ['6']);
  assert.deepEqual(priority(/^eth0: kernel shows operstate (UP|DORMANT) linkmode=1 running=(true|false)$/), ['6']);
  assert.deepEqual(priority(/^eth0: flow restarted event=flowRestarted reason=carrier-(down|up)/), ['6']);
  assert.deepEqual(priority(/^starting ifnames=eth0 auth=wpa-supplicant /), ['6']);
  assert.deepEqual(all.filter((e) => /^[{<]/.test(text(e))).map(text), [], 'a line still JSON, or with its prefix left in');
});

test('--log-format json under journald: JSON lines, as asked', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  await l.dropIn(UNIT, 'json', [
    '[Service]', 'ExecStart=', 'ExecStart=/usr/bin/dot1x-operstate %I --wpa-ctrl /run/wpa_supplicant --log-format json', '',
  ].join('\n'));
  t.after(() => l.removeDropIn(UNIT, 'json'));
  const from = l.journal.mark();
  await l.systemctl('restart', UNIT);
  const first = await l.journal.waitFor(entry.fromUnit(UNIT, /"msg":"starting"/), 'a JSON line', { from });
  const starting = JSON.parse(first.message) as Record<string, unknown>;
  assert.equal(starting.level, 30);
  assert.deepEqual(starting.ifnames, ['eth0']);
  await l.journal.waitFor(entry.fromUnit(UNIT, /"msg":"kernel shows operstate"/), 'the gate in place, in JSON', { from });
  // The new daemon's lines (not those of the one the restart stopped, nor ExecStopPost's).
  const lines: JournalEntry[] = l.journal.since(from, (e) => entry.fromUnit(UNIT)(e) && e.fields._PID === first.fields._PID);
  assert.ok(lines.length >= 3);
  assert.deepEqual(lines.filter((e) => !e.message.startsWith('{')).map((e) => e.message), []);
});

test('a daemon that starts before wpa_supplicant has made its control socket: no warning, open once it is there', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  await l.systemctl('stop', UNIT, 'wpa_supplicant-wired@eth0.service');
  await l.setUsers([{ identity: DEFAULT_IDENTITY, method: 'MD5', password: DEFAULT_PASSWORD }], 'the host\'s password accepted again');
  // wpa_supplicant a second late, as on a loaded boot (Type=simple: systemd starts the daemon,
  // ordered after it, at once).
  await l.dropIn('wpa_supplicant-wired@eth0.service', 'late', [
    '[Service]', 'ExecStart=', 'ExecStart=/bin/sh -c \'sleep 1; exec /sbin/wpa_supplicant -c/etc/wpa_supplicant/wpa_supplicant-wired-eth0.conf -Dwired -ieth0\'', '',
  ].join('\n'));
  t.after(() => l.removeDropIn('wpa_supplicant-wired@eth0.service', 'late'));
  const from = l.journal.mark();
  const started = l.note('both started, wpa_supplicant late');
  await l.systemctl('start', UNIT);
  await l.watch.until(is.open(), 'the port open', { since: started, timeoutMs: 30_000 });
  const starting = await l.journal.waitFor(entry.fromUnit(UNIT, /^starting /), 'the daemon\'s start', { from });
  const warnings = await journal(l, ['-p', 'warning', `_PID=${String(starting.fields._PID)}`]);
  assert.deepEqual(warnings.map(text), [], 'warnings for a wpa_supplicant that came a moment later');
});
