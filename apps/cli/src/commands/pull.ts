import * as path from 'node:path';
import { restyleMarkdown } from '@diaryx-sync/crdt';
import {
  ensureFolder,
  readFileIfExists,
  readMarkdownFolder,
  removeFileAndEmptyParents,
  toFilePath,
  writeFileAtomic,
} from '../folder';
import { AttachmentSync } from '../attachment-sync';
import type { ConnectionOptions } from '../connection-options';
import type { CliIo } from '../io';
import { LocalWorkspace } from '../local-workspace';
import { createProgress } from '../progress';
import { createClient, type ClientTuning } from '../sync-runner';
import { ExitCode, type ExitCodeValue } from '../exit-codes';

/** Options of `diaryx-sync pull`. */
export interface PullOptions extends ConnectionOptions {
  /** Delete local markdown files that are not in the workspace. */
  readonly delete: boolean;
}

/** `diaryx-sync pull <dir>`: materialize the workspace into a folder. */
export async function pullCommand(
  dir: string,
  opts: PullOptions,
  io: CliIo,
  tuning?: ClientTuning,
): Promise<ExitCodeValue> {
  const root = path.resolve(dir);
  await ensureFolder(root, 'write');
  const local = new LocalWorkspace(opts.workspace);
  const progress = createProgress(io, opts.progress && !opts.quiet);
  const client = createClient(
    opts,
    local,
    (e) => {
      if (e.type === 'Progress') progress.update(e.completed, e.total, 'downloading');
    },
    tuning,
  );
  try {
    await client.runOneShot({ save: false, timeoutMs: opts.timeoutMs, signal: io.signal });
  } finally {
    progress.stop();
    client.stop(); // never leave the socket and its timers running after an error
  }
  const files = local.materialize();
  // Remote files whose names are unsafe (or impossible on this OS) are not written: say so.
  const skipped = local.unsyncableFiles();
  for (const s of skipped) io.err(`warning: ${s.path}: not written: ${s.problem}\n`);
  const knownPaths = new Set(files.map((f) => f.path));
  let written = 0;
  for (const [i, file] of files.entries()) {
    const target = toFilePath(root, file.path);
    const existing = await readFileIfExists(target);
    // A file that means the same is left as the author wrote it; a changed one keeps its style.
    const content =
      existing === undefined
        ? file.content
        : restyleMarkdown(existing, file.content, { path: file.path, knownPaths });
    if (existing !== content) {
      await writeFileAtomic(target, content);
      written++;
    }
    progress.update(i + 1, files.length, 'writing');
  }
  progress.stop();
  const attachments = await new AttachmentSync(root, opts).pull(local.workspace);
  for (const p of attachments.missing) io.err(`warning: ${p}: attachment bytes not on the server\n`);
  let deleted = 0;
  if (opts.delete) {
    const keep = new Set([...files.map((f) => f.path), ...skipped.map((s) => s.path)]);
    for (const f of await readMarkdownFolder(root)) {
      if (!keep.has(f.path)) {
        await removeFileAndEmptyParents(root, toFilePath(root, f.path));
        deleted++;
      }
    }
  }
  if (!opts.quiet) {
    const extra = `${opts.delete ? `, ${deleted} deleted` : ''}${skipped.length > 0 ? `, ${skipped.length} skipped (unsafe names)` : ''}`;
    io.out(
      `pulled ${files.length} files from workspace ${opts.workspace} into ${dir} (${written} written, ${files.length - written} unchanged${extra})` +
        (attachments.downloaded + attachments.unchanged > 0
          ? `; attachments: ${attachments.downloaded} downloaded, ${attachments.unchanged} unchanged`
          : '') +
        '\n',
    );
  }
  return ExitCode.Ok;
}
