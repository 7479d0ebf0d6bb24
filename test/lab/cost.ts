/**
 * Median time of FN over a few runs, in ms: a peer (or a file another program wrote) controls
 * every byte of what a parser sees, so a hostile input must cost about what a harmless one of
 * the same size costs. Compared as a ratio in the same run, never against a fixed time.
 */
export function cost(fn: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b)[2]!;
}
