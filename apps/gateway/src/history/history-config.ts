/**
 * Settings of the gateway's history features (all optional): zip import limits and how long the
 * API waits for a history job. Part of the gateway's configuration (`gatewayConfigSchema`),
 * parsed once at start-up.
 */
import { z } from 'zod';

const int = (def: number) => z.coerce.number().int().positive().default(def);

export const historyConfigSchema = z.object({
  /** Largest accepted zip upload (bytes). */
  SNAPSHOT_MAX_ZIP_BYTES: int(50 * 1024 * 1024),
  /** Largest total uncompressed markdown in one import (bytes). */
  SNAPSHOT_MAX_TOTAL_BYTES: int(100 * 1024 * 1024),
  /** Largest single file in an import (bytes). */
  SNAPSHOT_MAX_FILE_BYTES: int(16 * 1024 * 1024),
  /** Most files in an import. */
  SNAPSHOT_MAX_FILES: int(10_000),
  /** Most entries of any kind (files, folders, skipped dotfiles) in an import zip. */
  SNAPSHOT_MAX_ENTRIES: int(20_000),
  /** Zip imports one gateway runs at a time (more get 429 with `Retry-After`). */
  SNAPSHOT_MAX_CONCURRENT_IMPORTS: int(2),
  /** Zip imports one tenant runs at a time on one gateway (more get 429 with `Retry-After`). */
  SNAPSHOT_MAX_TENANT_IMPORTS: int(1),
  /** `Retry-After` of a refused import (s). */
  SNAPSHOT_IMPORT_RETRY_AFTER_S: int(5),
  /** Largest accepted attachment upload (bytes); larger uploads get 413 (docs/protocol.md#attachments). */
  ATTACHMENT_MAX_BYTES: int(25 * 1024 * 1024),
  /** Lifetime of a presigned attachment download URL (s). */
  ATTACHMENT_PRESIGN_TTL_S: int(300),
  /** How long commit/restore/import requests wait for the history worker (ms). */
  HISTORY_JOB_TIMEOUT_MS: int(60_000),
});

export type HistoryConfig = z.infer<typeof historyConfigSchema>;

/** Injection token of {@link HistoryConfig}. */
export const HISTORY_CONFIG = Symbol('HISTORY_CONFIG');
