import type { Request } from 'express';
import { ApiError } from './api-error';

/**
 * Reads a request body that no body parser consumed (`text/markdown`, `application/octet-stream`)
 * into memory, refusing more than `max` bytes with 413 `payload_too_large` (declared in
 * `Content-Length` or counted while reading). A body already parsed as JSON is refused with 400.
 */
export async function readRawBody(req: Request, max: number, what: string): Promise<Buffer> {
  const tooLarge = () => new ApiError(413, 'payload_too_large', `${what} is larger than ${max} bytes`);
  if (Buffer.isBuffer(req.body)) {
    if (req.body.length > max) throw tooLarge();
    return req.body;
  }
  if (req.readableEnded) throw ApiError.badRequest(`send the ${what} as the raw body`, 'invalid_request');
  if (Number(req.headers['content-length'] ?? 0) > max) throw tooLarge();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
