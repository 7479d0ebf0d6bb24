/**
 * import() of a module named at run time (--auth module). The bundled CLI is compiled with
 * vm.Script (src/launcher.ts), where import() has no loader behind it without an experimental
 * flag; the launcher, an ES module itself, then registers its own import() under this symbol.
 */
export const IMPORT_HOOK = Symbol.for('dot1x-operstate.import');

type Importer = (url: string) => Promise<Record<string, unknown>>;

export function importModule(url: string): Promise<Record<string, unknown>> {
  const hook = (globalThis as Record<symbol, unknown>)[IMPORT_HOOK] as Importer | undefined;
  return hook !== undefined ? hook(url) : import(url) as Promise<Record<string, unknown>>;
}
