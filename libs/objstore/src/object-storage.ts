/**
 * Object storage over the S3 API with the `minio` client (MinIO in compose/k8s, `s3rver` locally).
 * Nothing here assumes a shared local filesystem.
 */
import type * as Minio from 'minio';
import type { BucketItem, Client, ClientOptions } from 'minio';
import type { Readable } from 'node:stream';

let minio: typeof Minio | undefined;
/**
 * The minio client library, loaded on first use: with lodash, async, xml2js and mime-db about
 * 6 MB of heap that a gateway serving no attachment or history request does not need.
 */
function loadMinio(): typeof Minio {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (minio ??= require('minio') as typeof Minio);
}

/** Where and how to reach the object store (the S3_* settings of docs/architecture.md#configuration). */
export interface ObjectStorageConfig {
  /** Base URL, e.g. `http://127.0.0.1:9000`. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region?: string;
}

/** True when a minio error means "this key/bucket does not exist". */
function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchBucket';
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A bucket of the object store: put/get/stat/list/delete by key. */
export class ObjectStorage {
  readonly bucket: string;
  private readonly clientOptions: ClientOptions;
  private minioClient: Client | undefined;

  constructor(config: ObjectStorageConfig) {
    const url = new URL(config.endpoint);
    const useSSL = url.protocol === 'https:';
    this.bucket = config.bucket;
    this.clientOptions = {
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      region: config.region ?? 'us-east-1',
      pathStyle: true,
    };
  }

  /** The S3 client, created on first use (see {@link loadMinio}). */
  private get client(): Client {
    return (this.minioClient ??= new (loadMinio().Client)(this.clientOptions));
  }

  /** Creates the bucket when missing (idempotent; safe when several processes race). */
  async ensureBucket(): Promise<void> {
    if (await this.client.bucketExists(this.bucket)) return;
    try {
      await this.client.makeBucket(this.bucket);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
    }
  }

  /** Throws when the bucket cannot be reached (fail-fast check at start-up). */
  async assertReachable(): Promise<void> {
    const exists = await this.client.bucketExists(this.bucket);
    if (!exists) throw new Error(`S3 bucket "${this.bucket}" does not exist`);
  }

  /** Stores `data` under `key` (overwrites). */
  async put(
    key: string,
    data: Buffer | Uint8Array | string,
    contentType = 'application/octet-stream',
  ): Promise<void> {
    const buf =
      typeof data === 'string'
        ? Buffer.from(data)
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    await this.client.putObject(this.bucket, key, buf, buf.length, { 'Content-Type': contentType });
  }

  /** Stores a stream under `key` (`size` when known lets the client skip multipart buffering). */
  async putStream(
    key: string,
    stream: Readable,
    contentType = 'application/octet-stream',
    size?: number,
  ): Promise<void> {
    await this.client.putObject(this.bucket, key, stream, size, { 'Content-Type': contentType });
  }

  /** A URL that GETs `key` without credentials for `expiresS` seconds. */
  async presignedGet(key: string, expiresS: number): Promise<string> {
    return this.client.presignedGetObject(this.bucket, key, expiresS);
  }

  /** The object's bytes, or `null` when the key does not exist. */
  async get(key: string): Promise<Buffer | null> {
    const stream = await this.getStream(key);
    return stream ? readAll(stream) : null;
  }

  /** The object as a stream, or `null` when the key does not exist. */
  async getStream(key: string): Promise<Readable | null> {
    try {
      return await this.client.getObject(this.bucket, key);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Size of the object in bytes, or `null` when it does not exist. */
  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const s = await this.client.statObject(this.bucket, key);
      return { size: s.size };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** True when `key` exists. */
  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  /** Every key under `prefix` (recursive). */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const stream = this.client.listObjectsV2(this.bucket, prefix, true);
    for await (const item of stream as AsyncIterable<BucketItem>) if (item.name) keys.push(item.name);
    return keys;
  }

  /** True when at least one object exists under `prefix` (stops listing at the first). */
  async hasAny(prefix: string): Promise<boolean> {
    const stream = this.client.listObjectsV2(this.bucket, prefix, true);
    for await (const item of stream as AsyncIterable<BucketItem>) if (item.name) return true;
    return false;
  }

  /** Every object under `prefix` (recursive) with its last modification time. */
  async listWithDates(prefix: string): Promise<{ key: string; lastModified: Date }[]> {
    const out: { key: string; lastModified: Date }[] = [];
    const stream = this.client.listObjectsV2(this.bucket, prefix, true);
    for await (const item of stream as AsyncIterable<BucketItem>)
      if (item.name) out.push({ key: item.name, lastModified: item.lastModified ?? new Date(0) });
    return out;
  }

  /** Deletes `key` (no error when it does not exist). */
  async delete(key: string): Promise<void> {
    try {
      await this.client.removeObject(this.bucket, key);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
