/**
 * Keeps the --metrics-file up to date for node_exporter's textfile collector. Rewritten only when
 * its text changes, after a change the daemon reports (no timer: an idle daemon does not wake
 * up for it). Written to a temporary file in the same directory, then renamed over the old one,
 * so that the collector never reads half a file (the collector reads only *.prom, and the
 * temporary name does not end so). The temporary file is created with O_EXCL after removing any
 * leftover, so a link planted under its name is never followed.
 */
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../cli/errors.js';
import { describeFailure } from '../cli/failure.js';
import type { Logger } from '../text/log.js';
import { renderMetrics, type InterfaceMetrics } from './metrics.js';

export class MetricsFile {
  private written: string | null = null;
  private scheduled = false;
  private lastError: string | null = null;
  private closed = false;
  private readonly tmp: string;

  constructor(
    readonly path: string,
    private readonly version: string,
    private readonly collect: () => InterfaceMetrics[],
    private readonly log: Logger,
  ) {
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  }

  /** Something changed: rewrite once the current burst of changes is over (same event-loop turn). */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.closed) this.writeNow();
    });
  }

  /**
   * The first write, before any link is touched: a path that cannot be written is the
   * operator's to correct (UsageError, exit 2), not something to warn about for ever after.
   */
  writeFirst(): void {
    try {
      this.write(renderMetrics(this.version, this.collect()));
    } catch (err) {
      throw new UsageError('EMETRICS',
        `cannot write --metrics-file ${this.path} (${describeFailure(err).message}); name a file in an existing directory root can write, e.g. node_exporter's textfile directory /var/lib/prometheus/node-exporter`);
    }
  }

  private write(text: string): void {
    try {
      try { unlinkSync(this.tmp); } catch { /* no leftover: the usual case */ }
      const fd = openSync(this.tmp, 'wx', 0o644);
      try { writeSync(fd, text); } finally { closeSync(fd); }
      renameSync(this.tmp, this.path);
    } catch (err) {
      try { unlinkSync(this.tmp); } catch { /* never created */ }
      throw err;
    }
    this.written = text;
  }

  /** Writes the file now if its text changed; returns whether it wrote. Never throws. */
  writeNow(): boolean {
    const text = renderMetrics(this.version, this.collect());
    if (text === this.written) return false;
    try {
      this.write(text);
      if (this.lastError !== null) this.log.info({ metricsFile: this.path }, 'metrics file written again');
      this.lastError = null;
      return true;
    } catch (err) {
      const message = describeFailure(err).message;
      // Once per distinct failure: a full disk must not fill the log as well.
      if (message !== this.lastError) this.log.warn({ metricsFile: this.path, err: message }, 'could not write the metrics file');
      this.lastError = message;
      return false;
    }
  }

  /**
   * On a clean stop the file is removed: the ports are back in linkmode 0 and no longer
   * gated, and a stale file would keep reporting the last state.
   */
  close(): void {
    this.closed = true;
    if (this.written === null) return;
    try { unlinkSync(this.path); } catch { /* already gone */ }
  }
}
