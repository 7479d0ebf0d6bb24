/**
 * The journal log format (src/text/journal.ts): one line per event, led by the syslog priority
 * journald reads from a stream, a sentence, the other fields as KEY=value; `auto` picks it only
 * where the output is systemd's journal stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, resolveLogFormat, type LogFormat } from '../src/text/log.js';
import { isJournalStream, journalLine, priorityOf } from '../src/text/journal.js';
import { spawnSync } from 'node:child_process';
import { CLI_PATH } from './lab/dot1x-daemon.js';

/**
 * What a logger of FORMAT at trace level writes for the calls LOG makes, to a file; with
 * JOURNAL_STREAM set to what STREAM says of the file's descriptor while the logger is made.
 */
function output(format: LogFormat, log: (l: ReturnType<typeof createLogger>) => void, stream?: (fd: number) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'd1x-log-'));
  try {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    const saved = process.env.JOURNAL_STREAM;
    if (stream === undefined) delete process.env.JOURNAL_STREAM; else process.env.JOURNAL_STREAM = stream(fd);
    try {
      log(createLogger({ level: 'trace', format, fd }));
    } finally {
      if (saved === undefined) delete process.env.JOURNAL_STREAM; else process.env.JOURNAL_STREAM = saved;
      closeSync(fd);
    }
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('syslog priorities: trace and debug 7, info 6, warn 4, error 3, fatal 2', () => {
  const out = output('journal', (l) => {
    l.trace('t'); l.debug('d'); l.info('i'); l.warn('w'); l.error('e'); l.fatal('f');
  });
  assert.equal(out, '<7>t\n<7>d\n<6>i\n<4>w\n<3>e\n<2>f\n');
  assert.deepEqual([10, 20, 30, 40, 50, 60].map(priorityOf), [7, 7, 6, 4, 3, 2]);
});

test('a rejected credential reads as a sentence, at warning, with its fields', () => {
  const out = output('journal', (l) => l.warn({
    event: 'authFinished', ifname: 'eth0', attempt: 2, authorized: false, cause: 'credentials-rejected',
    message: 'EAP-Failure from the authenticator', heldMs: 5528,
  }, 'authentication finished'));
  assert.equal(out, '<4>eth0: authentication failed: credentials rejected by the switch (EAP-Failure from the authenticator); ' +
    'next attempt in 6 s event=authFinished attempt=2 cause=credentials-rejected\n');
});

test('the other causes, a success, a failure without a wait', () => {
  const line = (fields: Record<string, unknown>): string => journalLine({ level: 40, msg: 'authentication finished', ifname: 'eth1', attempt: 1, ...fields });
  assert.equal(line({ authorized: false, cause: 'no-authenticator', message: 'no answer to 3 EAPOL-Starts, 5000 ms apart', heldMs: 60_000 }),
    '<4>eth1: authentication failed: no authenticator answered (no answer to 3 EAPOL-Starts, 5000 ms apart); next attempt in 60 s attempt=1 cause=no-authenticator\n');
  assert.equal(line({ authorized: false, cause: 'failed', message: 'exit status 3', heldMs: null }),
    '<4>eth1: authentication failed: exit status 3 attempt=1 cause=failed\n');
  assert.equal(line({ level: 30, authorized: true, cause: null, message: null, heldMs: null }), '<6>eth1: authentication succeeded attempt=1\n');
});

test('state lines, the kernel\'s operstate, and any other line: IFNAME: message KEY=value', () => {
  assert.equal(journalLine({ level: 30, msg: 'state', ifname: 'eth0', state: 'held', previous: 'authenticating.exchanging', durationMs: 3012, attempt: 2, cause: 'timeout' }),
    '<6>eth0: state held (after 3012 ms in authenticating.exchanging) attempt=2 cause=timeout\n');
  assert.equal(journalLine({ level: 30, msg: 'state', ifname: 'eth0', state: 'initializing.querying', previous: null, attempt: 0 }),
    '<6>eth0: state initializing.querying attempt=0\n');
  assert.equal(journalLine({ level: 30, msg: 'state', ifname: 'eth0', state: 'stopped', previous: 'held', restore: 'written' }),
    '<6>eth0: state stopped (was held) restore=written\n');
  assert.equal(journalLine({ level: 30, msg: 'kernel shows operstate', ifname: 'eth0', operstate: 'DORMANT', linkmode: 1, running: false }),
    '<6>eth0: kernel shows operstate DORMANT linkmode=1 running=false\n');
  // pino's own fields and nulls are left out; lists are joined.
  assert.equal(journalLine({ level: 30, time: 1, pid: 2, hostname: 'h', msg: 'starting', ifnames: ['eth0', 'eth1'], optional: false, hookDir: null }),
    '<6>starting ifnames=eth0,eth1 optional=false\n');
  assert.equal(journalLine({ level: 40, msg: 'wpa_supplicant unavailable', component: 'auth', ifname: 'eth0', event: 'backendDown', reason: 'connect /run/wpa_supplicant/eth0: ENOENT' }),
    '<4>eth0: wpa_supplicant unavailable component=auth event=backendDown reason="connect /run/wpa_supplicant/eth0: ENOENT"\n');
});

test('peer text cannot forge a line or a field: control characters escaped, quotes quoted', () => {
  const line = journalLine({ level: 40, msg: 'authentication finished', ifname: 'eth0', authorized: false, cause: 'failed',
    message: 'bad\n<2>forged line', heldMs: 1000, program: 'say "hi"\r', nested: { a: 'x\ny' } });
  assert.equal(line.split('\n').length, 2, 'more than one line');
  assert.equal(line, '<4>eth0: authentication failed: bad\\x0a<2>forged line; next attempt in 1 s cause=failed program="say \\"hi\\"\\x0d" ' +
    'nested="{\\"a\\":\\"x\\x5cny\\"}"\n');
});

test('secrets are censored in the journal format as in JSON', () => {
  const out = output('journal', (l) => l.info({ ifname: 'eth0', password: 'hunter2', env: { TOKEN: 'abc' } }, 'program started'));
  assert.ok(!out.includes('hunter2') && !out.includes('abc'), out);
  assert.match(out, /password=\[redacted\]/);
});

test('auto: journal only where the output is the stream JOURNAL_STREAM names; json otherwise', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'd1x-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fd = openSync(join(dir, 'out'), 'w');
  try {
    const mine = { JOURNAL_STREAM: streamOf(fd) };
    assert.equal(isJournalStream(fd, mine), true);
    assert.equal(resolveLogFormat('auto', fd, mine), 'journal');
    // Inherited by a program whose output goes elsewhere: another inode, or nothing set.
    const st = fstatSync(fd, { bigint: true });
    assert.equal(resolveLogFormat('auto', fd, { JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` }), 'json');
    assert.equal(resolveLogFormat('auto', fd, {}), 'json');
    assert.equal(resolveLogFormat('auto', fd, { JOURNAL_STREAM: 'garbage' }), 'json');
    assert.equal(resolveLogFormat('auto', 987_654, mine), 'json', 'a closed descriptor');
    // Asked for explicitly: as asked.
    assert.equal(resolveLogFormat('json', fd, mine), 'json');
    assert.equal(resolveLogFormat('journal', fd, {}), 'journal');
  } finally {
    closeSync(fd);
  }
});

test('auto through the logger: journal lines on the journal stream, JSON elsewhere', () => {
  assert.equal(output('auto', (l) => l.warn({ ifname: 'eth0' }, 'w'), streamOf), '<4>eth0: w\n');
  assert.match(output('auto', (l) => l.warn({ ifname: 'eth0' }, 'w')), /^\{"level":40,.*"ifname":"eth0","msg":"w"\}\n$/);
  assert.match(output('auto', (l) => l.warn({ ifname: 'eth0' }, 'w'), () => '1:1'), /^\{"level":40,/);
});

test('the failure line on stderr carries <3> when stderr is the journal stream, nothing otherwise', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'd1x-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stderrOf = (journal: boolean): string => {
    const file = join(dir, `stderr-${journal}`);
    const fd = openSync(file, 'w');
    try {
      const env = { ...process.env, JOURNAL_STREAM: journal ? streamOf(fd) : '' };
      const r = spawnSync(process.execPath, [CLI_PATH, 'eth0', '--log-format', 'xml'], { env, stdio: ['ignore', 'ignore', fd], timeout: 30_000 });
      assert.equal(r.status, 2);
    } finally {
      closeSync(fd);
    }
    return readFileSync(file, 'utf8');
  };
  assert.match(stderrOf(true), /^<3>dot1x-operstate: --log-format must be one of auto, json, journal, pretty/);
  assert.match(stderrOf(false), /^dot1x-operstate: --log-format must be one of/);
});

/** JOURNAL_STREAM as systemd would set it for FD (systemd.exec(5)): DEV:INO. */
function streamOf(fd: number): string {
  const st = fstatSync(fd, { bigint: true });
  return `${st.dev}:${st.ino}`;
}
