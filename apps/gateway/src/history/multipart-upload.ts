/**
 * Receives the `file` field of a `multipart/form-data` body into a temp file (never in memory),
 * for routes that take an upload either as the raw body or as a form file upload
 * (docs/protocol.md#http-api). Other fields are ignored.
 */
import busboy from 'busboy';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import { ApiError } from '../api/api-error';
import type { TempUpload } from './upload-file';

/** Name of the form field that carries the uploaded file. */
export const UPLOAD_FIELD = 'file';

/** Whether `req` declares a `multipart/form-data` body. */
export function isMultipartUpload(req: Request): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');
}

/**
 * Streams the `file` field of `req`'s multipart body into a new file under the OS temp dir.
 * More than `max` bytes (declared in `Content-Length` or counted) → 413 `payload_too_large`; a
 * malformed body or a form without a `file` field → 400 `invalid_request`.
 */
export async function receiveMultipartUpload(req: Request, max: number, what: string): Promise<TempUpload> {
  const tooLarge = () => new ApiError(413, 'payload_too_large', `${what} is larger than ${max} bytes`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw tooLarge();
  const dir = await mkdtemp(join(tmpdir(), 'diaryx-upload-'));
  const file = join(dir, 'body');
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const bytes = await streamFileField(req, file, max, tooLarge, what);
    return { file, bytes, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

function streamFileField(
  req: Request,
  file: string,
  max: number,
  tooLarge: () => ApiError,
  what: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: max } });
    } catch (err) {
      reject(ApiError.badRequest(`malformed multipart body: ${(err as Error).message}`, 'invalid_request'));
      return;
    }
    let settled = false;
    let written: Promise<number> | undefined;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      req.pause();
      reject(err);
    };
    parser.on('file', (name, stream) => {
      if (name !== UPLOAD_FIELD || written) {
        stream.resume();
        return;
      }
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
      });
      stream.on('limit', () => fail(tooLarge()));
      written = pipeline(stream, createWriteStream(file)).then(() => size);
      written.catch((err: Error) => fail(err));
    });
    parser.on('error', (err: Error) =>
      fail(ApiError.badRequest(`malformed multipart body: ${err.message}`, 'invalid_request')),
    );
    parser.on('close', () => {
      if (settled) return;
      if (!written) {
        fail(
          ApiError.badRequest(`send the ${what} in a form field named "${UPLOAD_FIELD}"`, 'invalid_request'),
        );
        return;
      }
      written.then(
        (size) => {
          if (settled) return;
          settled = true;
          resolve(size);
        },
        (err: Error) => fail(err),
      );
    });
    req.on('aborted', () => fail(ApiError.badRequest('upload aborted', 'invalid_request')));
    req.pipe(parser);
  });
}
