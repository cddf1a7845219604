/** Limits of a workspace zip import (all configurable by the caller). */
export interface ZipLimits {
  /** Size of the zip itself (default 50 MiB). */
  maxZipBytes: number;
  /** Sum of the uncompressed markdown bytes (default 100 MiB). */
  maxTotalBytes: number;
  /** Uncompressed size of one file (default 16 MiB). */
  maxFileBytes: number;
  /** Number of files (default 10,000). */
  maxFiles: number;
  /**
   * Number of entries of any kind — files, folders, skipped dotfiles — read from the zip's end
   * record before any entry is read (default 20,000).
   */
  maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxZipBytes: 50 * 1024 * 1024,
  maxTotalBytes: 100 * 1024 * 1024,
  maxFileBytes: 16 * 1024 * 1024,
  maxFiles: 10_000,
  maxEntries: 20_000,
};

/** Why a zip was refused (`code` is the API error code; the HTTP status is 400, or 413 for size). */
export class ZipImportError extends Error {
  override readonly name = 'ZipImportError';
  constructor(
    readonly code: 'invalid_zip' | 'unsafe_path' | 'too_large' | 'too_many_files' | 'invalid_file',
    message: string,
  ) {
    super(message);
  }
}
