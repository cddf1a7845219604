/** `@diaryx-sync/cli`: the `diaryx-sync` command (also usable in-process, e.g. from tests). */
export { runCli, createProgram } from './cli';
export { ExitCode, type ExitCodeValue } from './exit-codes';
export type { CliIo } from './io';
export {
  LocalWorkspace,
  syncPathProblem,
  type FileBase,
  type ImportSummary,
  type LocalMergeResult,
} from './local-workspace';
export { mergeLocalText, applyTextDiff, type TextMergeResult } from './text-merge';
export { mergeLocalMetadata } from './metadata-merge';
export { FolderSync, type FolderSyncOptions } from './folder-sync';
export type { ClientTuning } from './sync-runner';
export type { StartHooks } from './commands/start';
