/**
 * Reading a --metrics-file in tests: a strict parser of the Prometheus text format (every sample
 * line parses and belongs to a family with HELP and TYPE) and a bounded wait for the file to say
 * something.
 */
import assert from 'node:assert/strict';
import { readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { withTimeout } from './auth-lab.js';

export interface Exposition {
  /** 'name{label="v",...}' exactly as written -> value. */
  samples: Map<string, number>;
  types: Map<string, string>;
  helps: Set<string>;
}

/** A strict reader of the text format: every sample line parses and belongs to a family with HELP and TYPE. */
export function parseExposition(text: string): Exposition {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const helps = new Set<string>();
  assert.ok(text.endsWith('\n'), 'the file must end with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    const help = /^# HELP ([a-z0-9_]+) \S.*$/.exec(line);
    if (help) { helps.add(help[1]!); continue; }
    const type = /^# TYPE ([a-z0-9_]+) (gauge|counter)$/.exec(line);
    if (type) { types.set(type[1]!, type[2]!); continue; }
    const sample = /^([a-z0-9_]+)(\{(?:[a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.]+)$/.exec(line);
    assert.ok(sample, `not a sample line: ${JSON.stringify(line)}`);
    const name = sample[1]!;
    assert.ok(types.has(name) && helps.has(name), `${name} without HELP and TYPE before it`);
    if (types.get(name) === 'counter') assert.ok(name.endsWith('_total'), `counter ${name} must end in _total`);
    samples.set(`${name}${sample[2] ?? ''}`, Number(sample[3]));
  }
  return { samples, types, helps };
}

/** Resolves with the parsed file once PRED holds (re-read on every change in its directory). */
export function untilMetrics(path: string, pred: (m: Exposition) => boolean, what: string, timeoutMs = 20_000): Promise<Exposition> {
  let last = '(no file)';
  const watcher = watch(dirname(path));
  const p = new Promise<Exposition>((resolve) => {
    const check = (): void => {
      let text: string;
      try { text = readFileSync(path, 'utf8'); } catch { return; }
      last = text;
      const m = parseExposition(text);
      if (pred(m)) resolve(m);
    };
    watcher.on('change', check);
    check();
  });
  return withTimeout(p, timeoutMs, `${what}; last file:\n${last}`).finally(() => watcher.close());
}

