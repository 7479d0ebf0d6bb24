/**
 * Node's own modules that only some paths need, loaded on their first use
 * (process.getBuiltinModule) instead of when the program starts: each costs start-up time
 * (node compiles it from its code cache) and resident memory, and the daemon's start is on the
 * way to network-pre.target (test/bench/start-to-managed.ts). child_process is needed for
 * --auth exec, hooks and nft; crypto for random names and the --enforce table names.
 */

type Builtins = {
  'node:child_process': typeof import('node:child_process');
  'node:crypto': typeof import('node:crypto');
  'node:fs/promises': typeof import('node:fs/promises');
};

function onFirstUse<ID extends keyof Builtins>(id: ID): () => Builtins[ID] {
  let loaded: Builtins[ID] | undefined;
  return () => (loaded ??= process.getBuiltinModule(id) as Builtins[ID]);
}

export const childProcess = onFirstUse('node:child_process');
export const crypto = onFirstUse('node:crypto');
export const fsPromises = onFirstUse('node:fs/promises');
