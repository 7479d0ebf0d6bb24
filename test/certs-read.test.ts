/**
 * Reading certificate files (src/certs/x509.ts, pkcs12.ts): PEM, DER and PKCS#12 with and
 * without a password, what is never read (a key's PEM block, a key file behind private_key),
 * and every way a file can be wrong, each with its code. Certificates made with openssl here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabCa } from './lab/certs.js';
import { labDir } from './lab/peer-process.js';
import { looksLikePkcs12, pemCertificates, readCertificateFile, readPkcs12KeyFile, withFileBytes, MAX_CERT_FILE_BYTES } from '../src/certs/x509.js';
import { pkcs12Args } from '../src/certs/pkcs12.js';
import { cost } from './lab/cost.js';
import { needsRoot } from './lab/netns.js';
import { plantFirstInPath, withOpenCopy, without } from './lab/planted.js';

const openssl = (cwd: string, ...args: string[]): void => { execFileSync('openssl', args, { cwd, stdio: 'ignore' }); };

test('PEM: the certificate of a file that also holds its key, the key block never decoded; a chain in order; DER', async (t) => {
  const ca = await LabCa.create(t, 'read-ca');
  const c = await ca.issue('host', 'host.example', 'clientAuth', { fromDays: -1, toDays: 30 });
  const dir = labDir('read', t);
  const both = join(dir, 'both.pem');
  writeFileSync(both, readFileSync(c.key, 'utf8') + readFileSync(c.cert, 'utf8') + readFileSync(ca.cert, 'utf8'));
  const r = await readCertificateFile(both, 'client');
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.format, 'pem');
  assert.deepEqual(r.certificates.map((x) => x.subject), ['CN=host.example', 'CN=read-ca']);
  assert.equal(r.certificates[0]!.issuer, 'CN=read-ca');
  assert.equal(r.certificates[1]!.ca, true);
  assert.ok(Math.abs(Date.parse(r.certificates[0]!.notAfter) - Date.now() - 30 * 86_400_000) < 120_000);
  assert.match(r.certificates[0]!.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const blocks = pemCertificates(readFileSync(both));
  assert.deepEqual(blocks.otherLabels, ['PRIVATE KEY'], 'the key block is listed by its label only');

  const der = join(dir, 'host.der');
  openssl(dir, 'x509', '-in', c.cert, '-outform', 'DER', '-out', der);
  const d = await readCertificateFile(der, 'client');
  assert.ok(d.ok);
  assert.equal(d.format, 'der');
  assert.equal(d.certificates[0]!.fingerprint256, r.certificates[0]!.fingerprint256);
});

test('the bytes read are zeroed once used, so a key read with its certificate does not stay in memory', async (t) => {
  const ca = await LabCa.create(t, 'wipe-ca');
  const c = await ca.issue('host', 'wipe.example', 'clientAuth', { fromDays: -1, toDays: 30 });
  const dir = labDir('wipe', t);
  const both = join(dir, 'both.pem');
  writeFileSync(both, readFileSync(c.key, 'utf8') + readFileSync(c.cert, 'utf8'));
  let seen: Buffer | null = null;
  const n = await withFileBytes(both, null, (bytes) => { seen = bytes; return bytes.indexOf('PRIVATE KEY'); });
  assert.ok(typeof n === 'number' && n > 0, 'the key was in the bytes while in use');
  assert.ok(seen !== null && (seen as Buffer).length > 0);
  assert.ok((seen as Buffer).every((b) => b === 0), 'the buffer still holds the file');
});

test('PKCS#12: read without a password when its certificates are not encrypted or encrypted with the empty one (also legacy RC2); one that needs a password says so', async (t) => {
  const ca = await LabCa.create(t, 'p12-ca');
  const c = await ca.issue('host', 'p12.example', 'clientAuth', { fromDays: -1, toDays: 30 });
  const dir = labDir('p12', t);
  const bundle = (name: string, ...extra: string[]): string => {
    const out = join(dir, name);
    openssl(dir, 'pkcs12', '-export', '-in', c.cert, '-inkey', c.key, '-certfile', ca.cert, '-out', out, ...extra);
    return out;
  };
  const secret = 'p12-secret-passphrase';
  const cases = {
    certsInClear: bundle('clear.p12', '-passout', `pass:${secret}`, '-certpbe', 'NONE'),
    emptyPassword: bundle('empty.p12', '-passout', 'pass:'),
    legacyEmpty: bundle('legacy.p12', '-passout', 'pass:', '-legacy'),
  };
  for (const [name, path] of Object.entries(cases)) {
    assert.ok(looksLikePkcs12(readFileSync(path)), `${name}: not recognised as PKCS#12`);
    const client = await readCertificateFile(path, 'client');
    assert.ok(client.ok, `${name}: ${JSON.stringify(client)}`);
    assert.equal(client.format, 'pkcs12');
    assert.deepEqual(client.certificates.map((x) => x.subject), ['CN=p12.example'], `${name}: the key holder's certificate only`);
    const cas = await readCertificateFile(path, 'ca');
    assert.ok(cas.ok);
    assert.deepEqual(cas.certificates.map((x) => x.subject), ['CN=p12-ca'], `${name}: the CAs only`);
  }
  const locked = bundle('locked.p12', '-passout', `pass:${secret}`);
  const r = await readCertificateFile(locked, 'client');
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'needs-password');
  assert.match(!r.ok ? r.message : '', /encrypted with a password: its expiry cannot be checked without it/);
  // The password is never asked for or passed: openssl gets the empty one, keys left out.
  const args = pkcs12Args(locked, 'client', false);
  assert.deepEqual(args.slice(args.indexOf('-passin'), args.indexOf('-passin') + 2), ['-passin', 'pass:']);
  assert.ok(args.includes('-nokeys'));

  // private_key as a PKCS#12 bundle: its certificate; a key file: not read at all (null).
  const viaKey = await readPkcs12KeyFile(cases.certsInClear);
  assert.ok(viaKey?.ok && viaKey.certificates[0]!.subject === 'CN=p12.example');
  assert.equal(await readPkcs12KeyFile(c.key), null);
});

test('PKCS#12 through the system\'s openssl only: never one first in $PATH; one others could change, or none, says what to do', async (t) => {
  if (!needsRoot(t)) return;
  const ca = await LabCa.create(t, 'noss-ca');
  const c = await ca.issue('host', 'noss.example', 'clientAuth', { fromDays: -1, toDays: 30 });
  const dir = labDir('noss', t);
  const p12 = join(dir, 'x.p12');
  openssl(dir, 'pkcs12', '-export', '-in', c.cert, '-inkey', c.key, '-out', p12, '-passout', 'pass:');
  const planted = plantFirstInPath(dir, 'openssl', '/usr/bin/openssl');
  const script = `import('${new URL('../src/certs/x509.js', import.meta.url).href}').then(async (m) => console.log(JSON.stringify(await m.readCertificateFile(${JSON.stringify(p12)}, 'client'))))`;
  const read = (wrap: string[] = []): { ok: boolean; code?: string; message?: string } => {
    const r = spawnSync(wrap[0] ?? process.execPath, [...wrap.slice(1), ...(wrap.length > 0 ? [process.execPath] : []), '-e', script],
      { env: planted.env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { ok: boolean; code?: string; message?: string };
  };
  assert.equal(read().ok, true);
  assert.equal(planted.ran(), null, 'the openssl of $PATH ran');

  const open = read(withOpenCopy(dir, '/usr/bin/openssl'));
  assert.equal(open.code, 'openssl-missing');
  assert.match(open.message ?? '', /needs the system's openssl program, only root able to change it: \/usr\/bin\/openssl is writable by group or others \(mode 0777\)/);

  const none = read(without(dir, '/usr/bin/openssl'));
  assert.equal(none.code, 'openssl-missing');
  assert.match(none.message ?? '', /needs the openssl program: apt-get install openssl$/);
  assert.equal(planted.ran(), null, 'the openssl of $PATH ran');
});

test('every way a file can be wrong has its code: missing, a directory, a FIFO (no hang), too large, no certificate, a key only', async (t) => {
  const dir = labDir('bad', t);
  const check = async (path: string, code: string, message: RegExp): Promise<void> => {
    const r = await readCertificateFile(path, 'client');
    assert.equal(r.ok, false, path);
    assert.equal(!r.ok && r.code, code, JSON.stringify(r));
    assert.match(!r.ok ? r.message : '', message);
  };
  await check(join(dir, 'none.pem'), 'missing', /none\.pem does not exist/);
  await check(join(dir, 'no', 'such', 'dir.pem'), 'missing', /does not exist/);
  mkdirSync(join(dir, 'adir'));
  await check(join(dir, 'adir'), 'not-a-file', /is not a regular file/);
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  await check(join(dir, 'fifo'), 'not-a-file', /is not a regular file/);
  writeFileSync(join(dir, 'big.pem'), '');
  truncateSync(join(dir, 'big.pem'), MAX_CERT_FILE_BYTES + 1);
  await check(join(dir, 'big.pem'), 'too-large', /more than a certificate file holds/);
  writeFileSync(join(dir, 'junk'), 'hello, not a certificate\n');
  await check(join(dir, 'junk'), 'no-certificate', /neither a PEM nor a DER certificate nor a PKCS#12 bundle/);
  openssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'key.pem');
  await check(join(dir, 'key.pem'), 'no-certificate', /holds no certificate \(PEM blocks: PRIVATE KEY\)/);
  // A link is followed (certbot's live/ files are links into archive/).
  const ca = await LabCa.create(t, 'link-ca');
  symlinkSync(ca.cert, join(dir, 'link.pem'));
  const r = await readCertificateFile(join(dir, 'link.pem'), 'ca');
  assert.ok(r.ok && r.certificates[0]!.subject === 'CN=link-ca');
});

test('PEM scanning grows linearly with the file: BEGIN lines without an END, without their dashes, of other labels', () => {
  for (const [what, line] of [
    ['certificate blocks that never end', '-----BEGIN CERTIFICATE-----\n'],
    ['BEGIN without the dashes after its label', '-----BEGIN CERTIFICATE\n'],
    ['blocks of other labels', '-----BEGIN X-----\n'],
  ] as const) {
    const of = (bytes: number): Buffer => Buffer.from(line.repeat(Math.floor(bytes / line.length)));
    const small = of(256 << 10);
    const large = of(1 << 20);
    const a = cost(() => pemCertificates(small));
    const b = cost(() => pemCertificates(large));
    // Four times the bytes: about four times the time when linear, sixteen when quadratic
    // (the first version took 18 s on the megabyte).
    assert.ok(b < 9 * a + 5, `${what}: ${b.toFixed(1)} ms for 1 MiB against ${a.toFixed(1)} ms for 256 KiB`);
  }
});
