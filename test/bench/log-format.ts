/**
 * What a log line costs in each format (src/text/log.ts): the journal format rewrites pino's
 * JSON line (parse, sentence, KEY=value), so its cost is JSON's plus that rewrite. The lines are
 * the ones the daemon writes at info on the way from a carrier change to UP (state changes,
 * the kernel's operstate, the authentication's outcome), written to /dev/null so that only our
 * side is measured: both formats then make the same single write(2) per line. Rounds alternate
 * the formats, so the machine's load falls on both alike; the figure that counts is the ratio.
 */
import { closeSync, openSync } from 'node:fs';
import { createLogger, type Logger } from '../../src/text/log.js';
import { below, info, type Bench, type BenchResult } from './report.js';
import { median, ratio, round } from './stats.js';

/** One carrier cycle's info lines, as the daemon logs them (managed-interface.ts). */
function cycle(log: Logger, i: number): void {
  const ifname = 'eth0';
  log.info({ event: 'flowRestarted', ifname, reason: 'carrier-up', epoch: i }, 'flow restarted');
  log.info({ ifname, state: 'authenticating.connecting', previous: 'disconnected', durationMs: 612, attempt: 1, cause: null }, 'state');
  log.info({ ifname, operstate: 'DORMANT', linkmode: 1, running: false }, 'kernel shows operstate');
  log.info({ ifname, state: 'authenticating.exchanging', previous: 'authenticating.connecting', durationMs: 21, attempt: 1, cause: null }, 'state');
  log.info({ event: 'authenticatorAnswered', ifname, following: false }, 'authenticator answered');
  log.info({ ifname, state: 'authorized.steady', previous: 'authenticating.exchanging', durationMs: 3, attempt: 1, cause: null }, 'state');
  log.info({ event: 'authFinished', ifname, attempt: 1, authorized: true, cause: null, message: null, heldMs: null }, 'authentication finished');
  log.info({ ifname, operstate: 'UP', linkmode: 1, running: true }, 'kernel shows operstate');
}
const LINES_PER_CYCLE = 8;

export const logFormat: Bench = {
  name: 'log-format',
  title: 'µs per info line: --log-format journal against json, to /dev/null',
  async run(opts): Promise<BenchResult> {
    const rounds = opts.quick ? 5 : 31;
    const cycles = opts.quick ? 200 : 1000;
    const fd = openSync('/dev/null', 'w');
    const formats = ['json', 'journal'] as const;
    const perLine: Record<(typeof formats)[number], number[]> = { json: [], journal: [] };
    try {
      const loggers = Object.fromEntries(formats.map((f) => [f, createLogger({ level: 'info', format: f, fd })])) as Record<(typeof formats)[number], Logger>;
      // Warm-up: both paths compiled before anything is timed.
      for (const f of formats) for (let i = 0; i < cycles; i++) cycle(loggers[f], i);
      for (let r = 0; r < rounds; r++) {
        for (const f of r % 2 === 0 ? formats : [...formats].reverse()) {
          const t0 = performance.now();
          for (let i = 0; i < cycles; i++) cycle(loggers[f], i);
          perLine[f].push(((performance.now() - t0) * 1000) / (cycles * LINES_PER_CYCLE));
        }
      }
    } finally {
      closeSync(fd);
    }
    const json = median(perLine.json);
    const journal = median(perLine.journal);
    const x = ratio(journal, json);
    opts.progress(`log-format: json ${json.toFixed(2)} µs, journal ${journal.toFixed(2)} µs a line`);
    return {
      tables: [{
        title: `µs per line, median of ${rounds} rounds of ${cycles * LINES_PER_CYCLE} lines`,
        columns: ['format', 'µs/line', 'x json'],
        rows: [['json', json, 1], ['journal', journal, x]],
        notes: ['one write(2) per line in both; the journal line is rewritten from the JSON pino makes (JSON.parse, sentence, KEY=value)'],
      }],
      metrics: [
        info('json, µs a line (median)', round(json, 2), 'µs'),
        below('journal / json, per line', round(x, 2), 'x', 3),
        // What the rewrite itself costs, whatever JSON's own cost becomes.
        info('journal - json, µs a line', round(journal - json, 2), 'µs'),
      ],
      data: perLine,
    };
  },
};
