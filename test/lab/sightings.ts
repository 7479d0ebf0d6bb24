/**
 * What a lab observer has seen so far (a child's output lines, a peer's events), in order, and
 * a bounded wait for the first one from a position on, already seen or still to come.
 */
export class Sightings<T> {
  /** Everything seen so far, in order: a position in it is what `from` counts. */
  readonly items: T[] = [];
  private readonly listeners = new Set<(item: T) => void>();

  /** One more: kept, and handed to every listener. */
  push(item: T): void {
    this.items.push(item);
    for (const l of [...this.listeners]) l(item);
  }

  /** Call LISTENER with every item from now on; returns the function that stops it. */
  listen(listener: (item: T) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /**
   * The first item from FROM on that matches PRED, seen or to come; rejects after timeoutMs
   * with FAILURE(timeoutMs), which should say what was seen instead.
   */
  first(pred: (item: T) => boolean, opts: { from: number; timeoutMs: number; failure: (timeoutMs: number) => string }): Promise<T> {
    const seen = this.items.slice(opts.from).find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const stop = this.listen((item) => {
        if (!pred(item)) return;
        clearTimeout(timer);
        stop();
        resolve(item);
      });
      const timer = setTimeout(() => {
        stop();
        reject(new Error(opts.failure(opts.timeoutMs)));
      }, opts.timeoutMs);
    });
  }
}
