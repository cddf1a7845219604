/**
 * An embedded S3-compatible server (`s3rver`) on loopback with a temp directory, for tests and the
 * local `npm start` launcher. Creates the bucket before resolving.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { ObjectStorageConfig } from './object-storage';

export interface EmbeddedS3Options {
  /** TCP port on 127.0.0.1 (0 = any free port). Default 9000. */
  port?: number;
  /** Data directory; default: a new temp directory that is removed on `stop()`. */
  directory?: string;
  /** Bucket created on start. Default `diaryx-sync` (the S3_BUCKET default). */
  bucket?: string;
}

/** A running embedded S3 server. */
export interface EmbeddedS3 {
  /** `http://127.0.0.1:{port}` — use as S3_ENDPOINT. */
  endpoint: string;
  port: number;
  directory: string;
  /** Connection settings for {@link ObjectStorage} (s3rver accepts the `S3RVER` key pair). */
  config: ObjectStorageConfig;
  /** Stops the server; removes the directory when it was a temp one. */
  stop(): Promise<void>;
}

/**
 * Rejects with the `listen` error (`code` `EADDRINUSE`) when `port` is taken: s3rver reports a
 * failed listen as an unhandled `error` event, which would end the process instead.
 */
async function assertPortFree(port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/**
 * Starts `s3rver` on 127.0.0.1 and creates the bucket.
 * @throws the `listen` error (`code` `EADDRINUSE`) when the port is taken.
 */
export async function startEmbeddedS3(options: EmbeddedS3Options = {}): Promise<EmbeddedS3> {
  const bucket = options.bucket ?? 'diaryx-sync';
  await assertPortFree(options.port ?? 9000);
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'diaryx-s3-')));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 9000,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped = false;
  return {
    endpoint,
    port,
    directory,
    config: { endpoint, accessKey: 'S3RVER', secretKey: 'S3RVER', bucket, region: 'us-east-1' },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      if (ownsDirectory) await rm(directory, { recursive: true, force: true });
    },
  };
}
