/**
 * Asynchronous operations that must reach the kernel one after the other: each starts once the
 * one before has settled (resolved or rejected), and `idle` says whether one is queued or under
 * way, for the callers that may act at once only then (src/enforce: the lift within the
 * machine's turn).
 */
export class Turns {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  get idle(): boolean { return this.pending === 0; }

  /** Runs OP after everything queued before it; its promise is OP's. */
  run<T>(op: () => Promise<T>): Promise<T> {
    this.pending++;
    const next = this.tail.then(op, op);
    const settled = (): void => { this.pending--; };
    next.then(settled, settled);
    this.tail = next.catch(() => {});
    return next;
  }

  /** What is queued from now on waits for SENT too, which went out at once (not counted as under way). */
  follow(sent: Promise<unknown>): void {
    this.tail = sent.catch(() => {});
  }
}
