// The JavaScript-module backend: the example module, and modules that must be refused.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createAuthenticator } from '../src/auth/index.js';
import type { AuthRequest } from '../src/auth/authenticator.js';
import { authenticate } from './lab/auth-lab.js';
import { labDir } from './lab/peer-process.js';
import { needsRoot } from './lab/netns.js';
import { createPort } from './lab/cli-port.js';
import { runCli } from './lab/dot1x-daemon.js';
import { AS_NOBODY, readableCopy } from './lab/readable-copy.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/auth-module.mjs', import.meta.url));
const REQ: AuthRequest = { ifname: 'eth7', ifindex: 7, mac: '02:00:00:00:00:07', attempt: 1, reason: 'link-up' };

function usage(code: string, includes: string) {
  return (e: Error & { code?: string }): boolean => {
    assert.equal(e.name, 'UsageError', e.message);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(includes), `"${e.message}" should mention ${includes}`);
    return true;
  };
}

test('the example module authorizes listed MACs and rejects others (path relative to cwd)', async (t) => {
  const before = process.env.DOT1X_ALLOWED_MACS;
  t.after(() => { if (before === undefined) delete process.env.DOT1X_ALLOWED_MACS; else process.env.DOT1X_ALLOWED_MACS = before; });
  process.env.DOT1X_ALLOWED_MACS = '02:00:00:00:00:01, 02:00:00:00:00:07';
  const auth = await createAuthenticator({ kind: 'module', path: relative(process.cwd(), EXAMPLE) });
  assert.equal(auth.name, 'example-mac-allowlist');
  const ok = await authenticate(auth, REQ);
  assert.equal(ok.authorized, true, JSON.stringify(ok));
  const no = await authenticate(auth, { ...REQ, mac: '02:00:00:00:00:99' });
  assert.ok(!no.authorized && no.cause === 'credentials-rejected', JSON.stringify(no));
});

test('a factory default export is called once with { logger }', async (t) => {
  const dir = labDir('module', t);
  const p = join(dir, 'factory.mjs');
  writeFileSync(p, `let calls = 0;
    export default async ({ logger }) => {
      calls++;
      if (typeof logger.info !== 'function') throw new Error('no logger');
      return { name: 'factory-made', authenticate: async () => ({ authorized: true, details: { calls } }) };
    };`);
  const auth = await createAuthenticator({ kind: 'module', path: p });
  assert.equal(auth.name, 'factory-made');
  const o = await authenticate(auth, REQ);
  assert.deepEqual(o, { authorized: true, details: { calls: 1 } });
});

test('missing file: UsageError naming the path', async (t) => {
  const dir = labDir('module', t);
  await assert.rejects(createAuthenticator({ kind: 'module', path: join(dir, 'nope.mjs') }), usage('auth-module-missing', 'nope.mjs'));
});

test('unreadable file: UsageError (checked as user nobody)', async (t) => {
  const dir = labDir('module', t);
  chmodSync(dir, 0o755);
  const p = join(dir, 'secret.mjs');
  writeFileSync(p, 'export default {}');
  chmodSync(p, 0o600);
  const indexUrl = new URL('../src/auth/index.js', import.meta.url);
  // nobody cannot be pointed at the clone: it may sit under a directory only root can enter.
  const index = process.getuid?.() === 0 ? readableCopy().resolve(indexUrl) : fileURLToPath(indexUrl);
  const script = `import { createAuthenticator } from ${JSON.stringify(index)};
    createAuthenticator({ kind: 'module', path: ${JSON.stringify(p)} })
      .then(() => console.log('accepted'), (e) => console.log(e.name, e.code, e.message));`;
  const argv = process.getuid?.() === 0
    ? [...AS_NOBODY, process.execPath]
    : [process.execPath];
  if (process.getuid?.() !== 0) chmodSync(p, 0o000);
  const r = spawnSync(argv[0]!, [...argv.slice(1), '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^UsageError auth-module-unreadable .*secret\.mjs/);
});

test('a module that throws on import: UsageError with its message', async (t) => {
  const dir = labDir('module', t);
  const p = join(dir, 'throws.mjs');
  writeFileSync(p, `throw new Error('config server unreachable');\nexport default {};`);
  await assert.rejects(createAuthenticator({ kind: 'module', path: p }), usage('auth-module-import-failed', 'config server unreachable'));
});

test('a module without default export, or whose default lacks authenticate: UsageError naming what is missing', async (t) => {
  const dir = labDir('module', t);
  const none = join(dir, 'none.mjs');
  writeFileSync(none, `export const authenticate = async () => ({ authorized: true });`);
  await assert.rejects(createAuthenticator({ kind: 'module', path: none }), usage('auth-module-no-default', 'default export'));
  const lacks = join(dir, 'lacks.mjs');
  writeFileSync(lacks, `export default { name: 'half-done', authenticat: async () => ({ authorized: true }) };`);
  await assert.rejects(createAuthenticator({ kind: 'module', path: lacks }), usage('auth-module-invalid', 'authenticate(request, signal)'));
  const factory = join(dir, 'factory-throws.mjs');
  writeFileSync(factory, `export default () => { throw new Error('no token'); };`);
  await assert.rejects(createAuthenticator({ kind: 'module', path: factory }), usage('auth-module-factory-failed', 'no token'));
});

test('the contract is enforced: a throwing or malformed authenticate is "failed"; an ignored abort still settles', async (t) => {
  const dir = labDir('module', t);
  const p = join(dir, 'sloppy.mjs');
  writeFileSync(p, `export default {
    async authenticate(req) {
      if (req.attempt === 1) throw new Error('oops');
      if (req.attempt === 2) return { authorized: 'yes' };
      return new Promise(() => {}); // never settles and ignores the signal
    },
  };`);
  const auth = await createAuthenticator({ kind: 'module', path: p });
  const threw = await authenticate(auth, REQ);
  assert.ok(!threw.authorized && threw.cause === 'failed' && threw.message.includes('oops'), JSON.stringify(threw));
  const bad = await authenticate(auth, { ...REQ, attempt: 2 });
  assert.ok(!bad.authorized && bad.cause === 'failed' && bad.message.includes('malformed'), JSON.stringify(bad));
  const hung = await authenticate(auth, { ...REQ, attempt: 3 }, 100);
  assert.ok(!hung.authorized && hung.cause === 'timeout', JSON.stringify(hung));
});

test('unknown --auth kind: UsageError', async () => {
  await assert.rejects(createAuthenticator({ kind: 'radius' } as never), usage('auth-kind-unknown', 'wpa-supplicant, exec, module'));
});

/** A helper module that leaves PROOF behind when it runs. */
function helper(path: string, proof: string, mode: number, cjs = false): void {
  writeFileSync(path, cjs
    ? `require('node:fs').writeFileSync(${JSON.stringify(proof)}, 'ran');\nmodule.exports = { value: 1 };\n`
    : `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(proof)}, 'ran');\nexport const value = 1;\n`);
  chmodSync(path, mode);
}

test('what a module imports or requires is checked as it loads: a helper others could change is refused and never runs', async (t) => {
  const dir = labDir('module-imports', t);
  chmodSync(dir, 0o755);
  const proof = join(dir, 'proof');
  const ran = (): boolean => existsSync(proof);
  const mod = (name: string, body: string): string => {
    const p = join(dir, name);
    writeFileSync(p, `${body}\nexport default { authenticate: async () => ({ authorized: true }) };\n`);
    return p;
  };
  const unsafe = (file: string, why: RegExp) => (e: Error & { code?: string }): boolean => {
    assert.equal(e.name, 'UsageError', e.message);
    assert.equal(e.code, 'auth-module-unsafe', e.message);
    assert.match(e.message, new RegExp(`^authentication module .* loads a file others could change: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(e.message, why);
    return true;
  };

  // The proof: a root-owned module importing a helper anyone may write.
  helper(join(dir, 'open-helper.mjs'), proof, 0o666);
  await assert.rejects(createAuthenticator({ kind: 'module', path: mod('a.mjs', "import './open-helper.mjs';") }),
    unsafe(join(dir, 'open-helper.mjs'), /is writable by group or others \(mode 0666\)/));
  assert.equal(ran(), false, 'the helper ran');

  // One of root's mode, in a directory others may write.
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  helper(join(shared, 'helper.mjs'), proof, 0o644);
  chmodSync(shared, 0o775);
  await assert.rejects(createAuthenticator({ kind: 'module', path: mod('b.mjs', "import './shared/helper.mjs';") }),
    unsafe(join(shared, 'helper.mjs'), /: its directory .*shared is writable by group or others/));
  assert.equal(ran(), false, 'the helper ran');

  // CommonJS through createRequire: the same rule.
  helper(join(dir, 'open-helper.cjs'), proof, 0o666, true);
  await assert.rejects(createAuthenticator({ kind: 'module', path: mod('c.mjs', "import { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./open-helper.cjs');") }),
    unsafe(join(dir, 'open-helper.cjs'), /is writable by group or others \(mode 0666\)/));
  assert.equal(ran(), false, 'the helper ran');

  // Loaded later, by authenticate(): the attempt fails, the helper does not run.
  const late = join(dir, 'late.mjs');
  writeFileSync(late, `export default { async authenticate() { await import('./open-helper.mjs'); return { authorized: true }; } };\n`);
  const auth = await createAuthenticator({ kind: 'module', path: late });
  const o = await authenticate(auth, REQ);
  assert.ok(!o.authorized && o.cause === 'failed' && o.message.includes('refused to load a file others could change'), JSON.stringify(o));
  assert.equal(ran(), false, 'the helper ran');

  // Helpers only root can change load, ES modules and CommonJS alike, and packages of node's own.
  helper(join(dir, 'helper.mjs'), proof, 0o644);
  helper(join(dir, 'helper.cjs'), `${proof}.cjs`, 0o644, true);
  await createAuthenticator({ kind: 'module', path: mod('d.mjs', "import './helper.mjs';\nimport 'node:os';\nimport { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./helper.cjs');") });
  assert.equal(ran(), true);
  assert.equal(existsSync(`${proof}.cjs`), true);
});

test('the installed CLI checks what a module imports too: exit 2 naming the helper, link untouched', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'mod');
  const proof = join(port.dir, 'proof');
  helper(join(port.dir, 'open-helper.mjs'), proof, 0o666);
  const p = join(port.dir, 'mod.mjs');
  writeFileSync(p, "import './open-helper.mjs';\nexport default { authenticate: async () => ({ authorized: true }) };\n");
  const r = await runCli(port.host, ['eth0', '--auth', 'module', '--module', p, '--run-dir', port.runDir]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^dot1x-operstate: authentication module .*mod\.mjs loads a file others could change: .*open-helper\.mjs is writable by group or others \(mode 0666\): chmod go-w it\n$/);
  assert.equal(existsSync(proof), false, 'the helper ran as root');
  assert.equal((await port.link()).linkmode, 0);
});
