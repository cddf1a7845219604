/**
 * isomorphic-git, loaded on the first git operation: with pako and its other dependencies about
 * 2-3 MB of heap that a gateway or history worker does not need until a commit, a history read
 * or a git clone.
 */
import type * as IsoGit from 'isomorphic-git';

let loaded: typeof IsoGit | undefined;

/** The isomorphic-git module (loaded on the first call). */
export function isogit(): typeof IsoGit {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require('isomorphic-git') as typeof IsoGit);
}
