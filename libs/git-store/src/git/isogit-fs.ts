/**
 * A minimal `fs` for isomorphic-git that maps `${GITDIR}/objects/aa/bbbb…` onto an
 * {@link S3ObjectBackend}. Everything else (refs, config, packs) does not exist: refs live in
 * PostgreSQL and are never touched through isomorphic-git.
 */
import type { PromiseFsClient } from 'isomorphic-git';
import type { S3ObjectBackend } from './s3-object-backend';

/** The virtual git directory passed to isomorphic-git calls. */
export const GITDIR = '/repo.git';

const OBJECT_PATH = /^\/repo\.git\/objects\/([0-9a-f]{2})\/([0-9a-f]{38})$/;

function enoent(path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ENOENT: no such file or directory, '${path}'`);
  err.code = 'ENOENT';
  return err;
}

function oidOf(path: string): string | null {
  const m = OBJECT_PATH.exec(path);
  return m ? m[1] + m[2] : null;
}

const fileStat = (size: number) => ({
  type: 'file',
  mode: 0o100644,
  size,
  ino: 0,
  mtimeMs: 0,
  ctimeMs: 0,
  uid: 1,
  gid: 1,
  dev: 1,
  isFile: () => true,
  isDirectory: () => false,
  isSymbolicLink: () => false,
});

/** Builds the isomorphic-git `fs` client for one repository. */
export function createIsoGitFs(backend: S3ObjectBackend): PromiseFsClient {
  const promises = {
    async readFile(path?: string, options?: unknown): Promise<Buffer | string> {
      const oid = typeof path === 'string' ? oidOf(path) : null;
      if (!oid) throw enoent(String(path));
      const data = await backend.readDeflated(oid);
      if (!data) throw enoent(String(path));
      const encoding =
        typeof options === 'string' ? options : (options as { encoding?: string } | undefined)?.encoding;
      return encoding ? data.toString(encoding as BufferEncoding) : data;
    },
    async writeFile(path: string, data: Uint8Array | string): Promise<void> {
      const oid = oidOf(path);
      if (!oid) return; // nothing but objects is persisted through this fs
      await backend.writeDeflated(oid, typeof data === 'string' ? Buffer.from(data) : Buffer.from(data));
    },
    async stat(path: string) {
      const oid = oidOf(path);
      if (oid && (await backend.has(oid))) return fileStat(0);
      throw enoent(path);
    },
    async lstat(path: string) {
      return promises.stat(path);
    },
    async mkdir(): Promise<void> {},
    async rmdir(): Promise<void> {},
    async unlink(path: string): Promise<void> {
      throw enoent(path);
    },
    async readdir(path: string): Promise<string[]> {
      throw enoent(path);
    },
    async readlink(path: string): Promise<string> {
      throw enoent(path);
    },
    async symlink(): Promise<void> {},
    async chmod(): Promise<void> {},
  };
  return { promises } as unknown as PromiseFsClient;
}
