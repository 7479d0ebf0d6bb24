/**
 * CertificateWatch (src/certs/watch.ts) on real files: a renewal renamed over the file, written
 * in place, a certbot-style link repointed, a file that goes and comes back; the warnings once a
 * day, not at every read; one timer for the whole process, and nothing left after close().
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabCa } from './lab/certs.js';
import { labDir } from './lab/peer-process.js';
import { captureLogger, withTimeout } from './lab/auth-lab.js';
import { dailyTimerArmed } from '../src/certs/daily.js';
import { CertificateWatch } from '../src/certs/watch.js';
import type { CertRef, CertRole } from '../src/certs/refs.js';

const DAY = 86_400_000;

interface Harness {
  watch: CertificateWatch;
  log: ReturnType<typeof captureLogger>;
  /** Resolves with the roles of the next change notification. */
  nextChange(what: string): Promise<ReadonlySet<CertRole>>;
  messages(msg: string): number;
}

function harness(t: TestContext, refs: CertRef[], o: { warnDays?: number; dayMs?: number } = {}): Harness {
  const log = captureLogger();
  const queue: ReadonlySet<CertRole>[] = [];
  let wake: (() => void) | null = null;
  const watch = new CertificateWatch({
    ifname: () => 'eth0', source: () => Promise.resolve({ refs }), warnMs: (o.warnDays ?? 14) * DAY, log, dayMs: o.dayMs,
    onChange: (renewed) => { queue.push(renewed); wake?.(); },
  });
  t.after(() => watch.close());
  return {
    watch, log,
    async nextChange(what) {
      while (queue.length === 0) await withTimeout(new Promise<void>((r) => { wake = r; }), 10_000, what);
      return queue.shift()!;
    },
    messages: (msg) => log.entries.filter((e) => e.msg === msg).length,
  };
}

test('a renewal renamed over the file, one written in place, a file removed and put back: each read again, by inotify, with its log line', async (t) => {
  const ca = await LabCa.create(t, 'watch-ca');
  const dir = labDir('watch', t);
  const path = join(dir, 'host.pem');
  const first = await ca.issue('a', 'host.example', 'clientAuth', { fromDays: -1, toDays: 100 });
  copyFileSync(first.cert, path);
  const h = harness(t, [{ role: 'client', source: '--cert client', path }]);
  h.watch.start();
  assert.equal((await h.nextChange('the first read')).size, 0);
  assert.equal(h.messages('certificate read'), 1);
  const before = h.watch.files()[0]!.certificates[0]!.notAfter;

  const second = await ca.issue('b', 'host.example', 'clientAuth', { fromDays: -1, toDays: 200 });
  copyFileSync(second.cert, join(dir, '.host.pem.new'));
  renameSync(join(dir, '.host.pem.new'), path);
  assert.deepEqual([...await h.nextChange('the renamed renewal')], ['client']);
  const renewed = h.log.entries.find((e) => e.msg === 'certificate renewed')!;
  assert.equal((renewed.obj as { previousNotAfter: string }).previousNotAfter, before);
  assert.ok(h.watch.files()[0]!.certificates[0]!.notAfter > before);

  const third = await ca.issue('c', 'host.example', 'clientAuth', { fromDays: -1, toDays: 300 });
  writeFileSync(path, readFileSync(third.cert));
  assert.deepEqual([...await h.nextChange('the file written in place')], ['client']);
  assert.equal(h.messages('certificate file unreadable'), 0, 'a write in place was caught half-way');

  rmSync(path);
  await h.nextChange('the file removed');
  assert.equal(h.watch.files()[0]!.problem?.code, 'missing');
  assert.equal(h.messages('certificate file unreadable'), 1);
  copyFileSync(third.cert, path);
  assert.equal((await h.nextChange('the file back')).size, 0, 'back after a problem: read, not a renewal');
  assert.equal(h.watch.files()[0]!.problem, null);
  // Unrelated files in the directory are not read.
  const reads = h.log.entries.length;
  writeFileSync(join(dir, 'other.txt'), 'x');
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(h.log.entries.length, reads, 'a file of no concern woke the watch');
});

test("a certbot-style link: live/cert.pem repointed to another file in archive/ is read again", async (t) => {
  const ca = await LabCa.create(t, 'link-ca');
  const dir = labDir('certbot', t);
  mkdirSync(join(dir, 'live'));
  mkdirSync(join(dir, 'archive'));
  const a = await ca.issue('a', 'link.example', 'clientAuth', { fromDays: -1, toDays: 50 });
  copyFileSync(a.cert, join(dir, 'archive', 'cert1.pem'));
  symlinkSync(join(dir, 'archive', 'cert1.pem'), join(dir, 'live', 'cert.pem'));
  const h = harness(t, [{ role: 'client', source: '--cert client', path: join(dir, 'live', 'cert.pem') }]);
  h.watch.start();
  await h.nextChange('the first read');
  const b = await ca.issue('b', 'link.example', 'clientAuth', { fromDays: -1, toDays: 150 });
  copyFileSync(b.cert, join(dir, 'archive', 'cert2.pem'));
  symlinkSync(join(dir, 'archive', 'cert2.pem'), join(dir, 'live', '.cert.pem.new'));
  renameSync(join(dir, 'live', '.cert.pem.new'), join(dir, 'live', 'cert.pem'));
  assert.deepEqual([...await h.nextChange('the repointed link')], ['client']);
  // The target itself rewritten: its directory is watched too.
  const c = await ca.issue('c', 'link.example', 'clientAuth', { fromDays: -1, toDays: 250 });
  writeFileSync(join(dir, 'archive', 'cert2.pem'), readFileSync(c.cert));
  assert.deepEqual([...await h.nextChange('the target rewritten')], ['client']);
});

test('warnings: at the first read, not again at the next reads of the day, again at the daily timer; one timer for every watch, none after close', async (t) => {
  const ca = await LabCa.create(t, 'warn-ca');
  const soon = await ca.issue('soon', 'soon.example', 'clientAuth', { fromDays: -1, toDays: 3 });
  const gone = await ca.issue('gone', 'gone.example', 'clientAuth', { fromDays: -10, toDays: -1 });
  // Every timer the watches arm (the test's own waits aside), with its delay.
  const armed: number[] = [];
  const original = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void, ms?: number, ...rest: unknown[]) => {
    if (new Error().stack?.includes('/src/certs/')) armed.push(ms ?? 0);
    return (original as (...a: unknown[]) => NodeJS.Timeout)(fn, ms, ...rest);
  }) as typeof setTimeout;
  t.after(() => { globalThis.setTimeout = original; });
  const h = harness(t, [{ role: 'client', source: 'client_cert', path: soon.cert }, { role: 'ca', source: 'ca_cert', path: gone.cert }], { dayMs: 400 });
  const other = harness(t, [{ role: 'client', source: 'client_cert', path: soon.cert }], { dayMs: 400 });
  h.watch.start();
  other.watch.start();
  await h.nextChange('the first read');
  await other.nextChange('the other first read');
  assert.equal(h.messages('certificate expires soon'), 1);
  assert.equal(h.messages('certificate expired'), 1);
  const warning = h.log.entries.find((e) => e.msg === 'certificate expires soon')!;
  assert.equal(warning.level, 'warn');
  assert.deepEqual(Object.keys(warning.obj).sort(), ['daysLeft', 'ifname', 'issuer', 'notAfter', 'notBefore', 'path', 'role', 'source', 'subject', 'warnDays']);
  await h.watch.reload('SIGHUP');
  assert.equal(h.messages('certificate expires soon'), 1, 'warned again within the day');
  // Two watches, one daily timer (the inotify watches are no timers at all), and nothing else.
  assert.deepEqual(armed, [400]);
  assert.equal(dailyTimerArmed(), true);
  const daily = h.log.entries.length;
  while (h.messages('certificate expires soon') < 2) await withTimeout(new Promise((r) => setTimeout(r, 100)), 5_000, 'the daily warning');
  assert.ok(h.log.entries.length > daily);
  assert.ok(armed.every((ms) => ms === 400), `a timer other than the daily one: ${armed.join(', ')}`);
  h.watch.close();
  assert.equal(dailyTimerArmed(), true, 'the other watch still wants it');
  other.watch.close();
  assert.equal(dailyTimerArmed(), false, 'the daily timer outlived the last watch');
});
