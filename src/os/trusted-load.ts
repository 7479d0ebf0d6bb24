/**
 * Every file an --auth module loads runs as root, so every one of them is held to the rule of
 * src/os/trusted-file.ts as it loads, not only the module named on the command line (a helper
 * it imports that anyone may write would otherwise run as root just the same):
 * - ES modules (static and dynamic import, at start or later): a load hook registered with
 *   module.register(). Those hooks run in node's module loader thread, so their code is a data:
 *   URL built from trustProblem()'s own source;
 * - CommonJS (require, also one made by createRequire()): Module.prototype.require checks the
 *   file the request resolves to before loading it.
 * A refused file fails the import or the require with an error whose message starts with
 * UNTRUSTED_LOAD. Files of our own package (the daemon's code, its node_modules) are not looked
 * at: whoever can change them runs code as root anyway. Not covered: what a module reads and
 * runs by other means (fs and eval, vm, child processes, worker threads).
 */
import { Module, createRequire, isBuiltin, register } from 'node:module';
import { isAbsolute } from 'node:path';
import { trustProblem } from './trusted-file.js';

/** How a refused load's message starts; the file and what is wrong with it follow. */
export const UNTRUSTED_LOAD = 'refused to load a file others could change: ';

let installed = false;

/** Checks every file loaded from now on, except those under OWN (our package's directory). */
export function checkLoadedFiles(own: string | null): void {
  if (installed) return;
  installed = true;
  const uid = process.geteuid?.() ?? 0;
  const ours = (path: string): boolean => own !== null && (path === own || path.startsWith(`${own}/`));

  const hooks = `
    import { fileURLToPath } from 'node:url';
    const trustProblem = ${trustProblem.toString()};
    const own = ${JSON.stringify(own)};
    const uid = ${uid};
    export async function load(url, context, nextLoad) {
      if (url.startsWith('file:')) {
        const path = fileURLToPath(url);
        if (own === null || (path !== own && !path.startsWith(own + '/'))) {
          let problem = null;
          // A file that cannot be looked at is reported by the loader itself (ENOENT, EACCES).
          try { problem = trustProblem(path, uid); } catch {}
          if (typeof problem === 'string') throw new Error(${JSON.stringify(UNTRUSTED_LOAD)} + path + problem);
        }
      }
      return nextLoad(url, context);
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);

  const proto = Module.prototype as unknown as { require(id: string): unknown; filename?: string };
  const load = proto.require;
  proto.require = function checkedRequire(this: typeof proto, id: string): unknown {
    if (!isBuiltin(id) && typeof this.filename === 'string' && !ours(this.filename)) {
      const path = createRequire(this.filename).resolve(id);
      if (isAbsolute(path)) {
        const problem = trustProblem(path, uid);
        if (typeof problem === 'string') throw new Error(`${UNTRUSTED_LOAD}${path}${problem}`);
      }
    }
    return load.call(this, id);
  };
}
