/**
 * Builds nested git trees from a flat list of workspace files and flattens them back.
 */
import { isogit } from './isogit';
import type { PromiseFsClient, TreeEntry } from 'isomorphic-git';
import { GITDIR } from './isogit-fs';

/** One file of a materialized workspace: a normalized `/`-separated path and its bytes. */
export interface RepoFile {
  path: string;
  content: Uint8Array | string;
}

interface DirNode {
  files: Map<string, Uint8Array>;
  dirs: Map<string, DirNode>;
}

const newDir = (): DirNode => ({ files: new Map(), dirs: new Map() });

function toBytes(content: Uint8Array | string): Uint8Array {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/** Throws on paths git cannot represent safely (empty, `.`/`..` segments, leading `/`). */
export function assertRepoPath(path: string): string[] {
  const parts = path.split('/');
  if (
    path.length === 0 ||
    parts.some((p) => p === '' || p === '.' || p === '..' || p === '.git' || p.includes('\0'))
  ) {
    throw new Error(`invalid repository path ${JSON.stringify(path)}`);
  }
  return parts;
}

/** Writes the blobs and trees of `files`; returns the root tree id. Deterministic. */
export async function writeTreeFromFiles(fs: PromiseFsClient, files: RepoFile[]): Promise<string> {
  const root = newDir();
  for (const f of files) {
    const parts = assertRepoPath(f.path);
    let dir = root;
    for (const seg of parts.slice(0, -1)) {
      if (dir.files.has(seg)) throw new Error(`path conflict: ${seg} is both a file and a directory`);
      let child = dir.dirs.get(seg);
      if (!child) dir.dirs.set(seg, (child = newDir()));
      dir = child;
    }
    const name = parts[parts.length - 1];
    if (dir.dirs.has(name)) throw new Error(`path conflict: ${f.path} is both a file and a directory`);
    dir.files.set(name, toBytes(f.content));
  }
  return writeDir(fs, root);
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Parallel S3 requests per tree level. */
const IO_PARALLELISM = 16;

async function writeDir(fs: PromiseFsClient, dir: DirNode): Promise<string> {
  const files = [...dir.files];
  const blobOids = await mapLimit(files, IO_PARALLELISM, ([, bytes]) =>
    isogit().writeBlob({ fs, gitdir: GITDIR, blob: bytes }),
  );
  const entries: TreeEntry[] = files.map(([name], i) => ({
    mode: '100644',
    path: name,
    oid: blobOids[i],
    type: 'blob',
  }));
  for (const [name, child] of dir.dirs) {
    const oid = await writeDir(fs, child);
    entries.push({ mode: '040000', path: name, oid, type: 'tree' });
  }
  return isogit().writeTree({ fs, gitdir: GITDIR, tree: entries });
}

/** Flattens a tree to `path → blob id`. */
export async function flattenTree(
  fs: PromiseFsClient,
  treeOid: string,
  prefix = '',
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const { tree } = await isogit().readTree({ fs, gitdir: GITDIR, oid: treeOid });
  for (const entry of tree) {
    const path = prefix + entry.path;
    if (entry.type === 'tree') {
      for (const [p, oid] of await flattenTree(fs, entry.oid, `${path}/`)) out.set(p, oid);
    } else if (entry.type === 'blob') {
      out.set(path, entry.oid);
    }
  }
  return out;
}

/** Files added, changed and removed between two flattened trees. */
export interface TreeDiff {
  added: string[];
  changed: string[];
  removed: string[];
}

export function diffTrees(before: Map<string, string>, after: Map<string, string>): TreeDiff {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [path, oid] of after) {
    const old = before.get(path);
    if (old === undefined) added.push(path);
    else if (old !== oid) changed.push(path);
  }
  for (const path of before.keys()) if (!after.has(path)) removed.push(path);
  return { added: added.sort(), changed: changed.sort(), removed: removed.sort() };
}
