/**
 * The logger's safety net for secrets (src/text/log.ts): a secret key at the top of a logged
 * object or one level down is censored in the line, in both formats, and the caller's object is
 * left as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labDir } from './lab/peer-process.js';
import { createLogger, redactSecrets, type LogFormat } from '../src/text/log.js';

function logged(t: Parameters<typeof labDir>[1], format: LogFormat, write: (log: ReturnType<typeof createLogger>) => void): string {
  const path = join(labDir('log', t), 'out');
  const fd = openSync(path, 'w');
  try {
    write(createLogger({ level: 'info', format, fd }));
  } finally {
    closeSync(fd);
  }
  return readFileSync(path, 'utf8');
}

test('secret keys are censored at the top and one level down, in JSON and pretty lines', (t) => {
  for (const format of ['json', 'pretty'] as const) {
    const fields = {
      ifname: 'eth0',
      password: 'hunter2-top',
      env: { PATH: '/bin', TOKEN: 'env-token-1' },
      peer: { identity: 'alice', passphrase: 'hunter2-nested', privateKey: 'key-material' },
      list: ['secret', 'visible-in-array'],
    };
    const before = JSON.stringify(fields);
    const out = logged(t, format, (log) => {
      log.info(fields, 'with secrets');
      log.child({ component: 'auth' }).info({ attempt: 1, secret: 'hunter2-child' }, 'child');
    });
    for (const leaked of ['hunter2-top', 'hunter2-nested', 'key-material', 'env-token-1', 'hunter2-child']) {
      assert.doesNotMatch(out, new RegExp(leaked), `${format}: ${leaked} is not in the output:\n${out}`);
    }
    assert.match(out, /\[redacted\]/);
    assert.match(out, /alice/, `${format}: what is not a secret stays`);
    assert.match(out, /visible-in-array/);
    assert.equal(JSON.stringify(fields), before, 'the caller\'s object is unchanged');
  }
});

test('redactSecrets returns the object itself when there is nothing to censor', () => {
  const clean = { ifname: 'eth0', state: 'authorized', nested: { attempt: 2 } };
  assert.equal(redactSecrets(clean), clean);
  const dirty = { nested: { password: 'x' }, other: 1 };
  const out = redactSecrets(dirty);
  assert.notEqual(out, dirty);
  assert.deepEqual(out, { nested: { password: '[redacted]' }, other: 1 });
  assert.deepEqual(dirty, { nested: { password: 'x' }, other: 1 });
});
