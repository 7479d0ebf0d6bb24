/**
 * "Did you mean": the command a mistyped first word most likely meant. The default command takes
 * any other first word for an interface name, and an interface may be named like a typo
 * ("statsu"), so the caller suggests only once no interface of that name exists.
 */

export const COMMANDS = ['run', 'reset', 'status', 'doctor'] as const;

/** Edits (insert, delete, substitute, swap two neighbours) that turn A into B. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The command WORD is a likely mistyping of, or null: the start of one (three letters or more),
 * or one edit away for short words, two for words of five letters or more. Only letters: eth0,
 * enp3s0 and the like are interface names.
 */
export function nearCommand(word: string): string | null {
  if (!/^[a-z]+$/.test(word) || (COMMANDS as readonly string[]).includes(word)) return null;
  const started = word.length >= 3 ? COMMANDS.find((c) => c.startsWith(word)) : undefined;
  if (started !== undefined) return started;
  const allowed = word.length < 5 ? 1 : 2;
  let best: string | null = null;
  let bestDistance = allowed + 1;
  for (const command of COMMANDS) {
    const distance = editDistance(word, command);
    if (distance < bestDistance) { best = command; bestDistance = distance; }
  }
  return best;
}
