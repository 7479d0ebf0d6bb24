/**
 * The system lab itself (test/lab/system-lab.ts, docs/lab.md#the-system-lab): it boots systemd
 * with the package installed, the unit as shipped starts and reports the gate, and the lab leaves
 * nothing behind on the host: no cgroup, namespace or process, no file in the host's /etc, and the
 * host's /tmp untouched (systemd-tmpfiles would clean it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { is } from './lab/link-watch.js';
import { SystemLab } from './lab/system-lab.js';

const UNIT = 'dot1x-operstate@eth0.service';

test('the system lab boots, runs the unit as shipped to READY and "eth0: open", and tears down clean', async (t) => {
  if (!needsRoot(t)) return;
  // A file of the host's /tmp that must survive the lab (tmpfiles' tmp.conf would remove it).
  const marker = mkdtempSync(join(tmpdir(), 'd1x-syslab-marker-'));
  t.after(() => rmSync(marker, { recursive: true, force: true }));
  writeFileSync(join(marker, 'still-here'), 'x');
  const hostWpaConf = '/etc/wpa_supplicant/wpa_supplicant-wired-eth0.conf';
  const hadWpaConf = existsSync(hostWpaConf);
  const hadRunUnits = existsSync('/run/systemd/system');

  const lab = await SystemLab.boot({ prefix: 'syl' });
  t.after(() => lab.close());
  lab.attach(t);

  // The package's files at the installed paths, from the lab's own view.
  const unit = await lab.systemctl('cat', UNIT);
  assert.match(unit, /^# \/lib\/systemd\/system\/dot1x-operstate@\.service$/m);
  assert.equal(readFileSync(lab.path('/lib/systemd/system/dot1x-operstate@.service'), 'utf8'),
    readFileSync(new URL('../../examples/dot1x-operstate@.service', import.meta.url), 'utf8'), 'the unit is installed unmodified');
  const which = await lab.exec('readlink', ['-f', '/usr/bin/dot1x-operstate']);
  assert.equal(which.stdout.trim(), '/usr/lib/dot1x-operstate/dist/src/cli.js');

  const started = lab.note('systemctl start dot1x-operstate@eth0');
  // Returns once the daemon said READY=1 (Type=notify): the gate is in place by then.
  await lab.systemctl('start', UNIT);
  const gated = lab.watch.findSince(started, is.gated());
  assert.ok(gated, `the port was DORMANT in linkmode 1 before the start job finished:\n${lab.watch.format()}`);
  await lab.watch.until(is.open(), 'the port open after 802.1X', { since: started, timeoutMs: 20_000 });
  const shown = await lab.show(UNIT, 'ActiveState', 'SubState', 'StatusText', 'Result');
  assert.equal(shown.ActiveState, 'active');
  assert.equal(shown.StatusText, 'eth0: open');
  const status = await lab.exec('systemctl', ['status', '--no-pager', UNIT]);
  assert.match(status.stdout, /^\s+Status: "eth0: open"$/m);
  assert.ok(lab.masked.includes('systemd-tmpfiles-setup.service'));
  assert.ok(existsSync(join(marker, 'still-here')), "the host's /tmp was cleaned");

  const cgroup = lab.cgroup.path;
  const namespaces = [lab.host.name, lab.sw.name];
  const pid1 = lab.pid1;
  await lab.close();
  assert.equal(existsSync(cgroup), false, `${cgroup} is left`);
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  for (const ns of namespaces) assert.ok(!netns.includes(ns), `${ns} is left`);
  assert.equal(existsSync(`/proc/${pid1}`), false, 'the lab\'s systemd still runs');
  assert.equal(existsSync(lab.dir), false);
  assert.equal(existsSync(hostWpaConf), hadWpaConf, 'the lab wrote into the host\'s /etc');
  assert.equal(existsSync('/run/systemd/system'), hadRunUnits, 'the lab wrote into the host\'s /run');
  assert.ok(existsSync(join(marker, 'still-here')), "the host's /tmp was cleaned");
});
