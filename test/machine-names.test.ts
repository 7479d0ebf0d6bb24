// One name per idea from the option to the machine (machines/contract.ts SupplicantTiming): an
// option --foo-bar sets the field fooBarMs, a delay of the machine is named after the field that
// gives its length, and every timing field the machine reads is set by the run options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { validateRunOptions, type RawRunOptions } from '../src/cli/options.js';
import type { SupplicantTiming } from '../machines/contract.js';
import { supplicantMachine } from '../machines/supplicant.js';
import { startMachine } from './machine-fakes.js';

/** Every field of SupplicantTiming: the compiler fails here when one is added or removed. */
const TIMING_FIELDS: Record<keyof SupplicantTiming, true> = {
  authTimeoutMs: true,
  retryMinMs: true,
  retryMaxMs: true,
  retryJitter: true,
  confirmTimeoutMs: true,
  reassertLimit: true,
  writeRetryMs: true,
  authGraceMs: true,
  startPeriodMs: true,
  maxStart: true,
};

/** The run command's options, as yargs names them (camel case). */
const RAW_OPTIONS: Record<keyof RawRunOptions, true> = {
  ifname: true, auth: true, wpaCtrl: true, exec: true, execArg: true, module: true, authTimeout: true, retryMin: true,
  retryMax: true, startPeriod: true, optional: true, logLevel: true, logFormat: true, runDir: true, metricsFile: true,
  enforce: true, hookDir: true, hookTimeout: true, cert: true, certWarnDays: true,
};

test('every timing field the machine reads is set by the run options (nothing tested and documented that no one can set)', () => {
  const timing = validateRunOptions({ ifname: ['eth0'] }).timing;
  for (const field of Object.keys(TIMING_FIELDS)) {
    assert.equal(typeof timing[field as keyof SupplicantTiming], 'number', `timing.${field} is set by validateRunOptions`);
  }
});

test('an option that takes seconds sets the field of its own name (--auth-timeout: authTimeoutMs)', () => {
  const marker = 7.013;
  let seen = 0;
  for (const option of Object.keys(RAW_OPTIONS) as (keyof RawRunOptions)[]) {
    let config;
    try {
      config = validateRunOptions({ ifname: ['eth0'], [option]: String(marker) } as RawRunOptions);
    } catch {
      continue; // not a number of seconds
    }
    const fields = { ...config.timing, ...config } as Record<string, unknown>;
    const set = Object.keys(fields).filter((k) => fields[k] === marker * 1000);
    if (set.length === 0) continue;
    seen++;
    assert.deepEqual(set, [`${option}Ms`], `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} sets ${set.join(', ')}`);
  }
  assert.ok(seen >= 5, `${seen} options in seconds found (auth-timeout, retry-min, retry-max, start-period, hook-timeout)`);
});

test('a delay of the machine is named after the field that gives its length, without the unit', () => {
  const h = startMachine({ timing: { startPeriodMs: 5_000, maxStart: 3, authGraceMs: 1_000 } });
  const context = h.snapshot().context as unknown as Record<string, unknown>;
  const delays = Object.keys(supplicantMachine.implementations.delays);
  assert.ok(delays.length >= 5, `delays: ${delays.join(', ')}`);
  for (const delay of delays) {
    const field = `${delay}Ms`;
    assert.ok(field in TIMING_FIELDS || field in context, `delay ${delay}: no timing.${field} nor context.${field}`);
  }
  h.actor.stop();
});

test('the machine\'s contract has no second name for a type (export type A = B)', () => {
  const source = readFileSync(new URL('../../machines/contract.ts', import.meta.url), 'utf8');
  const aliases = [...source.matchAll(/^export type (\w+)\s*=\s*(\w+)\s*;/gm)].map((m) => `${m[1]} = ${m[2]}`);
  assert.deepEqual(aliases, []);
});
