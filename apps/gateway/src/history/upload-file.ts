/**
 * Receives a raw request body into a temp file (never in memory), refusing more than a given
 * number of bytes: the zip import reads it from disk, entry by entry (docs/protocol.md#http-api).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request } from 'express';
import { ApiError } from '../api/api-error';

/** A received upload: its file, and how to delete it. */
export interface TempUpload {
  file: string;
  bytes: number;
  dispose(): Promise<void>;
}

/**
 * Streams `req`'s body into a new file under the OS temp dir. More than `max` bytes (declared in
 * `Content-Length` or counted) → 413 `payload_too_large`, the rest of the body is not read.
 */
export async function receiveUpload(req: Request, max: number, what: string): Promise<TempUpload> {
  const tooLarge = () => new ApiError(413, 'payload_too_large', `${what} is larger than ${max} bytes`);
  if (req.readableEnded && !Buffer.isBuffer(req.body)) {
    // A body parser consumed it (JSON/form content type): not a raw upload.
    throw ApiError.badRequest(`send the ${what} as the raw body`, 'invalid_request');
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    discardRest(req, max);
    throw tooLarge();
  }
  const dir = await mkdtemp(join(tmpdir(), 'diaryx-upload-'));
  const file = join(dir, 'body');
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    let bytes: number;
    if (Buffer.isBuffer(req.body)) {
      if (req.body.length > max) throw tooLarge();
      await writeFile(file, req.body);
      bytes = req.body.length;
    } else {
      bytes = await streamToFile(req, file, max, tooLarge);
    }
    return { file, bytes, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/**
 * Reads and drops the rest of a refused body, so the client reads the 413 instead of a reset
 * connection (HTTP clients such as fetch report a reset while they are still sending as a network
 * error). Nothing is kept; a body far beyond the limit is cut off.
 */
export function discardRest(req: Request, max: number): void {
  const cap = Math.max(4 * max, 64 * 1024 * 1024);
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > cap) req.destroy();
  });
  req.resume();
}

function streamToFile(req: Request, file: string, max: number, tooLarge: () => ApiError): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file);
    let size = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.pause();
      out.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        fail(tooLarge());
        return discardRest(req, max);
      }
      if (!out.write(chunk)) {
        req.pause();
        out.once('drain', () => req.resume());
      }
    };
    req.on('data', onData);
    req.on('end', () => {
      if (!settled) out.end();
    });
    req.on('aborted', () => fail(ApiError.badRequest('upload aborted', 'invalid_request')));
    req.on('error', (err) => fail(ApiError.badRequest(`upload failed: ${err.message}`, 'invalid_request')));
    out.on('error', (err) => fail(err));
    out.on('finish', () => {
      if (settled) return;
      settled = true;
      resolve(size);
    });
  });
}
