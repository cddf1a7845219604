/**
 * Read-only git "dumb HTTP" for a workspace repository: `info/refs`, `HEAD` and loose objects
 * served straight from S3. Framework-free; the gateway maps the result onto its HTTP response.
 */
import { MAIN_REF, type WorkspaceRepository } from './workspace-repository';

/** What to answer for one dumb-HTTP path. */
export interface DumbHttpResponse {
  status: 200 | 404;
  contentType: string;
  body: Buffer;
}

const notFound = (): DumbHttpResponse => ({
  status: 404,
  contentType: 'text/plain',
  body: Buffer.from('not found\n'),
});
const text = (body: string): DumbHttpResponse => ({
  status: 200,
  contentType: 'text/plain',
  body: Buffer.from(body),
});

/**
 * Answers `subPath` (the part after `/git/{workspace}.git/`, without query string).
 * `info/refs` lists the branch and the pre-rebuild backups (`refs/backups/…`); `HEAD` points at it; `objects/aa/bb…` returns the zlib loose object;
 * `objects/info/packs` is empty (there are no packs).
 */
export async function serveDumbHttp(repo: WorkspaceRepository, subPath: string): Promise<DumbHttpResponse> {
  if (subPath === 'info/refs') {
    const head = await repo.head();
    const refs = [...(head ? [{ name: MAIN_REF, value: head }] : []), ...(await repo.backupRefs())];
    refs.sort((a, b) => (a.name < b.name ? -1 : 1));
    return text(refs.map((r) => `${r.value}\t${r.name}\n`).join(''));
  }
  if (subPath === 'HEAD') return text(`ref: ${MAIN_REF}\n`);
  if (subPath === 'objects/info/packs') return text('');
  const m = /^objects\/([0-9a-f]{2})\/([0-9a-f]{38})$/.exec(subPath);
  if (!m) return notFound();
  const data = await repo.backend.readDeflated(m[1] + m[2]);
  if (!data) return notFound();
  return { status: 200, contentType: 'application/x-git-loose-object', body: data };
}
