/** The program's version, from the package.json of the tree this module runs from. */
import { packageRoot } from '../os/package-root.js';

export function programVersion(): string {
  return packageRoot()?.version ?? 'unknown';
}
