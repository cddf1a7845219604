import * as path from 'node:path';
import { AttachmentSync, type AttachmentSummary } from '../attachment-sync';
import { ensureFolder, readMarkdownFolder } from '../folder';
import type { ConnectionOptions } from '../connection-options';
import type { CliIo } from '../io';
import { LocalWorkspace, type ImportSummary } from '../local-workspace';
import { createProgress } from '../progress';
import { createClient, type ClientTuning } from '../sync-runner';
import { ExitCode, type ExitCodeValue } from '../exit-codes';
import { CliError } from '../cli-error';

/** Options of `diaryx-sync push`. */
export interface PushOptions extends ConnectionOptions {
  /** Tombstone workspace files that are not in the folder. */
  readonly delete: boolean;
  /** A workspace without any entry gets doc-id keys (`--doc-ids`; apps/cli/README.md, "Key forms"). */
  readonly docIds?: boolean;
}

/**
 * `diaryx-sync push <dir>`: sync the workspace down, apply the folder as minimal CRDT changes
 * (frontmatter → metadata, body → body doc), then wait until the server confirms every
 * document durable (`saved`).
 */
export async function pushCommand(
  dir: string,
  opts: PushOptions,
  io: CliIo,
  tuning?: ClientTuning,
): Promise<ExitCodeValue> {
  const root = path.resolve(dir);
  await ensureFolder(root, 'read');
  const files = await readMarkdownFolder(root);
  const local = new LocalWorkspace(opts.workspace, opts.docIds === true ? 'doc-id' : 'path');
  const progress = createProgress(io, opts.progress && !opts.quiet);
  const client = createClient(
    opts,
    local,
    (e) => {
      if (e.type === 'Progress') progress.update(e.completed, e.total, 'syncing');
      if (e.type === 'ServerError' && e.code === 'read_only') readOnly.add(e.docId ?? '');
    },
    tuning,
  );
  let summary: ImportSummary | undefined;
  let attachments: AttachmentSummary | undefined;
  const readOnly = new Set<string>();
  try {
    const result = await client.runOneShot({
      save: true,
      timeoutMs: opts.timeoutMs,
      signal: io.signal,
      afterSync: async () => {
        summary = local.importFiles(files, { deleteMissing: opts.delete });
        // Attachment bytes are uploaded before the save, their refs saved with the rest.
        attachments = await new AttachmentSync(root, opts).push(local.workspace);
      },
      onSaved: (done, total) => progress.update(done, total, 'saving'),
    });
    progress.stop();
    if (readOnly.size > 0) {
      throw new CliError(
        ExitCode.Unauthorized,
        `the token is read-only (viewer): the server refused changes to ${readOnly.size} document${readOnly.size === 1 ? '' : 's'}`,
      );
    }
    for (const p of attachments?.missing ?? []) io.err(`warning: ${p}: attachment not found in the folder\n`);
    for (const p of summary?.problems ?? [])
      io.err(`warning: ${p.path}: ${p.message.replace(/\s+/g, ' ').trim()}\n`);
    if (!opts.quiet && summary !== undefined) {
      io.out(
        `pushed ${files.length} files to workspace ${opts.workspace} (${summary.created.length} created, ` +
          `${summary.updated.length} updated, ${summary.deleted.length} deleted, ${summary.unchanged} unchanged); ` +
          `${result.saved} documents saved` +
          (attachments && attachments.uploaded + attachments.unchanged > 0
            ? `; attachments: ${attachments.uploaded} uploaded, ${attachments.unchanged} unchanged`
            : '') +
          '\n',
      );
    }
  } finally {
    progress.stop();
    client.stop(); // never leave the socket and its timers running after an error
  }
  return ExitCode.Ok;
}
