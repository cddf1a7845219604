/**
 * The git history of one workspace: objects in S3 (via isomorphic-git), branch head in PostgreSQL
 * moved by compare-and-swap. Commits are always linear on `refs/heads/main`.
 */
import { isogit } from './isogit';
import type { PromiseFsClient } from 'isomorphic-git';
import { gitPrefix, type ObjectStorage } from '@diaryx-sync/objstore';
import type { RefStore } from '../refs/ref-store';
import { createIsoGitFs, GITDIR } from './isogit-fs';
import { S3ObjectBackend, type GitObjectCache } from './s3-object-backend';
import { buildCommitMessage } from './commit-message';
import {
  diffTrees,
  flattenTree,
  mapLimit,
  writeTreeFromFiles,
  type RepoFile,
  type TreeDiff,
} from './tree-builder';

/** The only branch. */
export const MAIN_REF = 'refs/heads/main';

/** Prefix of the refs that keep pre-rebuild states (docs/self-healing.md). */
export const BACKUP_REF_PREFIX = 'refs/backups/';

/** Commit author/committer identity. */
export interface GitAuthor {
  name: string;
  email: string;
}

/** One entry of the history (docs/protocol.md#http-api `/history`). */
export interface CommitSummary {
  id: string;
  message: string;
  /** RFC3339 */
  timestamp: string;
  parents: string[];
  /** The commit's author name: the user who changed most since the previous commit, or the service. */
  author: string;
}

/** Result of {@link WorkspaceRepository.commitFiles}. */
export type CommitResult =
  | { status: 'committed'; commitId: string; parent: string | null; diff: TreeDiff; files: number }
  | { status: 'nothing_to_commit'; head: string | null };

export interface CommitOptions {
  author: GitAuthor;
  /**
   * The users who changed the files since the last commit, most changes first
   * (docs/protocol.md#who-changed-what): the first is the commit's author (instead of `author`,
   * which stays the committer), the others are `Co-authored-by:` trailers.
   */
  changedBy?: GitAuthor[];
  /** Commit time (default now). */
  now?: Date;
  /** First-line prefix instead of `Snapshot`, e.g. `Restore of abc1234`. */
  reason?: string;
  /** Maximum compare-and-swap attempts when other writers move the head (default 20). */
  maxAttempts?: number;
}

/** Error thrown when a commit id does not exist in the repository. */
export class UnknownCommitError extends Error {
  override readonly name = 'UnknownCommitError';
}

/** The repository of `{tenant}/{workspace}`. */
export class WorkspaceRepository {
  readonly backend: S3ObjectBackend;
  private readonly fs: PromiseFsClient;

  constructor(
    storage: ObjectStorage,
    private readonly refs: RefStore,
    readonly tenant: string,
    readonly workspace: string,
    private readonly cache: GitObjectCache,
  ) {
    this.backend = new S3ObjectBackend(storage, tenant, workspace, cache);
    this.fs = createIsoGitFs(this.backend);
  }

  /** Current head commit id of `main`, or null for an empty repository. */
  head(): Promise<string | null> {
    return this.refs.get(this.tenant, this.workspace, MAIN_REF);
  }

  /**
   * Commits `files` (the complete workspace) on top of the current head. Writes no commit when the
   * tree equals the head's. Safe against concurrent writers: the head moves by compare-and-swap and
   * a lost race is retried on the new head, so history stays linear and no commit is lost.
   */
  async commitFiles(files: RepoFile[], options: CommitOptions): Promise<CommitResult> {
    // An empty repository may be a deleted-and-recreated one: never trust cached existence then.
    if ((await this.head()) === null) this.cache.forget(gitPrefix(this.tenant, this.workspace));
    const tree = await writeTreeFromFiles(this.fs, files);
    const attempts = options.maxAttempts ?? 20;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const head = await this.head();
      let before = new Map<string, string>();
      if (head) {
        const { commit } = await isogit().readCommit({ fs: this.fs, gitdir: GITDIR, oid: head });
        if (commit.tree === tree) return { status: 'nothing_to_commit', head };
        before = await flattenTree(this.fs, commit.tree);
      } else if (files.length === 0) {
        return { status: 'nothing_to_commit', head: null };
      }
      const after = await flattenTree(this.fs, tree);
      const diff = diffTrees(before, after);
      const now = options.now ?? new Date();
      const stamp = { ...options.author, timestamp: Math.floor(now.getTime() / 1000), timezoneOffset: 0 };
      const [firstAuthor, ...coAuthors] = options.changedBy ?? [];
      const trailers = coAuthors.map((a) => `Co-authored-by: ${a.name} <${a.email}>`);
      const message = buildCommitMessage(diff, now, options.reason);
      const commitId = await isogit().writeCommit({
        fs: this.fs,
        gitdir: GITDIR,
        commit: {
          message: trailers.length > 0 ? `${message}\n${trailers.join('\n')}\n` : message,
          tree,
          parent: head ? [head] : [],
          author: firstAuthor ? { ...stamp, ...firstAuthor } : stamp,
          committer: stamp,
        },
      });
      if (await this.refs.compareAndSwap(this.tenant, this.workspace, MAIN_REF, head, commitId)) {
        return { status: 'committed', commitId, parent: head, diff, files: after.size };
      }
    }
    throw new Error(`could not move ${MAIN_REF} of ${this.tenant}/${this.workspace}: too much contention`);
  }

  /**
   * Keeps `files` (a state about to be rebuilt) as a commit on a new ref `refs/backups/<time>` whose
   * parent is the head, so `git fetch origin 'refs/backups/*:refs/backups/*'` (or a clone followed by
   * that fetch) retrieves it. The branch does not move.
   */
  async writeBackupRef(
    files: RepoFile[],
    options: { author: GitAuthor; reason: string; now?: Date },
  ): Promise<{ ref: string; commitId: string }> {
    const tree = await writeTreeFromFiles(this.fs, files);
    const head = await this.head();
    const now = options.now ?? new Date();
    const stamp = { ...options.author, timestamp: Math.floor(now.getTime() / 1000), timezoneOffset: 0 };
    const commitId = await isogit().writeCommit({
      fs: this.fs,
      gitdir: GITDIR,
      commit: {
        message: `Backup before rebuild\n\n${options.reason}\n`,
        tree,
        parent: head ? [head] : [],
        author: stamp,
        committer: stamp,
      },
    });
    const base = `${BACKUP_REF_PREFIX}${now.toISOString().replace(/[:.]/g, '-')}`;
    for (let n = 0; ; n++) {
      const ref = n === 0 ? base : `${base}-${n}`;
      if (await this.refs.compareAndSwap(this.tenant, this.workspace, ref, null, commitId)) {
        return { ref, commitId };
      }
    }
  }

  /** The backup refs (`refs/backups/…`) and their commits, oldest first. */
  backupRefs(): Promise<{ name: string; value: string }[]> {
    return this.refs.list(this.tenant, this.workspace, BACKUP_REF_PREFIX);
  }

  /**
   * Newest-first history following first parents from the head (at most `count`), or from the
   * first parent of `after` (the last commit of a previous page).
   * @throws UnknownCommitError when `after` is not a commit of this repository.
   */
  async log(count = 20, after?: string): Promise<CommitSummary[]> {
    const out: CommitSummary[] = [];
    let oid: string | null;
    if (after === undefined) oid = await this.head();
    else {
      if (!(await this.hasCommit(after))) throw new UnknownCommitError(`unknown commit ${after}`);
      oid = (await isogit().readCommit({ fs: this.fs, gitdir: GITDIR, oid: after })).commit.parent[0] ?? null;
    }
    while (oid && out.length < count) {
      const { commit } = await isogit().readCommit({ fs: this.fs, gitdir: GITDIR, oid });
      out.push({
        id: oid,
        message: commit.message,
        timestamp: new Date(commit.committer.timestamp * 1000).toISOString(),
        parents: commit.parent,
        author: commit.author.name,
      });
      oid = commit.parent[0] ?? null;
    }
    return out;
  }

  /** True when `commitId` is a commit of this repository. */
  async hasCommit(commitId: string): Promise<boolean> {
    if (!/^[0-9a-f]{40}$/.test(commitId)) return false;
    try {
      await isogit().readCommit({ fs: this.fs, gitdir: GITDIR, oid: commitId });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Every blob reachable from any ref of the repository (`main`, `refs/backups/*`), through all
   * parents: blob id → one path it has. Trees seen once are not walked again.
   */
  async reachableBlobs(): Promise<Map<string, string>> {
    const blobs = new Map<string, string>();
    const seenCommits = new Set<string>();
    const seenTrees = new Set<string>();
    const queue = (await this.refs.list(this.tenant, this.workspace, 'refs/')).map((r) => r.value);
    while (queue.length > 0) {
      const oid = queue.pop()!;
      if (seenCommits.has(oid)) continue;
      seenCommits.add(oid);
      const { commit } = await isogit().readCommit({ fs: this.fs, gitdir: GITDIR, oid });
      queue.push(...commit.parent);
      if (seenTrees.has(commit.tree)) continue;
      seenTrees.add(commit.tree);
      for (const [path, blob] of await flattenTree(this.fs, commit.tree))
        if (!blobs.has(blob)) blobs.set(blob, path);
    }
    return blobs;
  }

  /** The bytes of a blob. */
  async readBlob(oid: string): Promise<Uint8Array> {
    return (await isogit().readBlob({ fs: this.fs, gitdir: GITDIR, oid })).blob;
  }

  /** The files of a commit (default: head), sorted by path. Throws {@link UnknownCommitError}. */
  async readFiles(commitId?: string): Promise<RepoFile[]> {
    const oid = commitId ?? (await this.head());
    if (!oid) return [];
    if (!(await this.hasCommit(oid))) throw new UnknownCommitError(`unknown commit ${oid}`);
    const { commit } = await isogit().readCommit({ fs: this.fs, gitdir: GITDIR, oid });
    const flat = await flattenTree(this.fs, commit.tree);
    const sorted = [...flat].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return mapLimit(sorted, 16, async ([path, blobOid]) => {
      const { blob } = await isogit().readBlob({ fs: this.fs, gitdir: GITDIR, oid: blobOid });
      return { path, content: blob };
    });
  }
}
