/** P's value, or 'timeout' when P has not settled after MS (the timer is cleared either way). */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); }),
  ]);
}
