import * as path from 'node:path';
import { AttachmentSync } from '../attachment-sync';
import type { ConnectionOptions } from '../connection-options';
import { ensureFolder } from '../folder';
import { FolderSync } from '../folder-sync';
import type { CliIo } from '../io';
import { LocalWorkspace } from '../local-workspace';
import { createProgress } from '../progress';
import { createClient, type ClientTuning } from '../sync-runner';
import { ExitCode, type ExitCodeValue } from '../exit-codes';
import { describeError } from '../cli-error';

/** Interval of the attachment pass of `start` (ms). */
const ATTACHMENT_PASS_MS = 2000;

/** Options of `diaryx-sync start`. */
export interface StartOptions extends ConnectionOptions {
  /** Quiet time before a changed file is read. */
  readonly debounceMs: number;
  /** A workspace without any entry gets doc-id keys (`--doc-ids`; apps/cli/README.md, "Key forms"). */
  readonly docIds?: boolean;
}

/** Hooks for tests: notified once the folder is reconciled and watched. */
export interface StartHooks {
  readonly onReady?: (sync: FolderSync) => void;
}

/**
 * `diaryx-sync start <dir>`: keep the folder and the workspace in sync both ways until
 * interrupted (Ctrl-C), reconnecting as needed.
 */
export async function startCommand(
  dir: string,
  opts: StartOptions,
  io: CliIo,
  tuning: ClientTuning & StartHooks = {},
): Promise<ExitCodeValue> {
  const root = path.resolve(dir);
  await ensureFolder(root, 'write');
  const local = new LocalWorkspace(opts.workspace, opts.docIds === true ? 'doc-id' : 'path');
  const log = (line: string): void => {
    if (!opts.quiet) io.out(`${line}\n`);
  };
  const sync = new FolderSync(root, local, {
    debounceMs: opts.debounceMs,
    log,
    onError: (err) => io.err(`error: ${describeError(err).message}\n`),
  });
  const progress = createProgress(io, opts.progress && !opts.quiet);
  // Attachments (apps/cli/README.md#attachments): a pull + push pass every ATTACHMENT_PASS_MS.
  const attachments = new AttachmentSync(root, opts);
  let attachmentTimer: ReturnType<typeof setInterval> | undefined;
  let attachmentPass: Promise<void> | undefined;
  const passAttachments = (): void => {
    if (attachmentPass) return;
    attachmentPass = (async () => {
      try {
        const down = await attachments.pull(local.workspace);
        const up = await attachments.push(local.workspace);
        if (down.downloaded > 0) log(`attachments: ${down.downloaded} downloaded`);
        if (up.uploaded > 0) log(`attachments: ${up.uploaded} uploaded`);
      } catch (err) {
        io.err(`error: ${describeError(err).message}\n`);
      } finally {
        attachmentPass = undefined;
      }
    })();
  };
  let ready = false;
  let starting = false;
  const client = createClient(
    opts,
    local,
    (e) => {
      if (e.type === 'Progress' && !ready) progress.update(e.completed, e.total, 'syncing');
      if (e.type === 'StatusChanged') {
        if (e.status === 'reconnecting') log(`reconnecting (attempt ${e.attempt ?? 1})`);
        else if (e.status === 'disconnected' && ready) log('disconnected');
        else if (e.status === 'synced' && ready) log('synced');
      }
      if (e.type === 'ServerError')
        io.err(`server error: ${e.code}${e.message !== undefined ? ` (${e.message})` : ''}\n`);
      // From the first reconciliation on (it runs in the sync's file-operation queue, so remote
      // changes that arrive meanwhile are written after it instead of being missed).
      if (starting) sync.onSyncEvent(e);
      if (e.type === 'StatusChanged' && e.status === 'synced' && !starting) {
        starting = true;
        progress.stop();
        void (async () => {
          try {
            const r = await sync.reconcile();
            await sync.watch();
            ready = true;
            passAttachments();
            attachmentTimer = setInterval(passAttachments, ATTACHMENT_PASS_MS);
            log(
              `watching ${dir} ↔ workspace ${opts.workspace} (${local.livePaths().length} files; ${r.imported} imported, ${r.written} written)`,
            );
            tuning.onReady?.(sync);
          } catch (err) {
            io.err(`error: ${describeError(err).message}\n`);
            client.stop();
          }
        })();
      }
    },
    tuning,
    Number.POSITIVE_INFINITY,
  );
  try {
    await client.runPersistent(io.signal);
  } finally {
    progress.stop();
    if (attachmentTimer) clearInterval(attachmentTimer);
    await attachmentPass;
    await sync.close();
  }
  log('stopped');
  return ExitCode.Ok;
}
