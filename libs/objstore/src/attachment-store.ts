/**
 * Content-addressed attachment bytes per tenant (docs/protocol.md#attachments): an object's key is
 * the SHA-256 of its bytes under `{tenant}/attachments.sha256/`, so identical bytes are stored
 * once per tenant and a tenant can only reach hashes it stored itself.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { attachmentKey, attachmentPrefix, attachmentHashOfKey } from './keys';
import type { ObjectStorage } from './object-storage';

/** Hex SHA-256 and size of a file, read as a stream. */
export async function sha256OfFile(file: string): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    const buf = chunk as Buffer;
    size += buf.length;
    hash.update(buf);
  }
  return { hash: hash.digest('hex'), size };
}

/** Hex SHA-256 of bytes in memory. */
export function sha256OfBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An attachment object of a tenant. */
export interface StoredAttachment {
  hash: string;
  lastModified: Date;
}

/** The tenant-scoped, content-addressed attachment store over {@link ObjectStorage}. */
export class AttachmentStore {
  constructor(private readonly objects: ObjectStorage) {}

  /** Size of the tenant's object with this hash, or `null` when the tenant does not have it. */
  async stat(tenant: string, hash: string): Promise<{ size: number } | null> {
    return this.objects.stat(attachmentKey(tenant, hash));
  }

  /** The bytes as a stream, or `null` when the tenant does not have them. */
  async getStream(tenant: string, hash: string): Promise<Readable | null> {
    return this.objects.getStream(attachmentKey(tenant, hash));
  }

  /** The bytes, or `null` when the tenant does not have them. */
  async get(tenant: string, hash: string): Promise<Buffer | null> {
    return this.objects.get(attachmentKey(tenant, hash));
  }

  /** A credential-free GET URL valid for `expiresS` seconds. */
  async presignedGet(tenant: string, hash: string, expiresS: number): Promise<string> {
    return this.objects.presignedGet(attachmentKey(tenant, hash), expiresS);
  }

  /**
   * Stores a file already hashed by the caller (streamed from disk). Returns `false` when the
   * tenant already had these bytes (nothing written).
   */
  async putFile(
    tenant: string,
    hash: string,
    file: string,
    size: number,
    mimeType: string,
  ): Promise<boolean> {
    const key = attachmentKey(tenant, hash);
    if (await this.objects.exists(key)) return false;
    await this.objects.putStream(key, createReadStream(file), mimeType || 'application/octet-stream', size);
    return true;
  }

  /** Stores bytes held in memory (zip import, restore); returns their hash. */
  async putBytes(tenant: string, bytes: Uint8Array, mimeType = ''): Promise<string> {
    const hash = sha256OfBytes(bytes);
    const key = attachmentKey(tenant, hash);
    if (!(await this.objects.exists(key)))
      await this.objects.put(key, bytes, mimeType || 'application/octet-stream');
    return hash;
  }

  /** Every attachment object of the tenant with its last modification time. */
  async list(tenant: string): Promise<StoredAttachment[]> {
    const out: StoredAttachment[] = [];
    for (const o of await this.objects.listWithDates(attachmentPrefix(tenant))) {
      const hash = attachmentHashOfKey(o.key);
      if (hash) out.push({ hash, lastModified: o.lastModified });
    }
    return out;
  }

  /** True when the tenant has at least one attachment object (one short listing). */
  async hasAny(tenant: string): Promise<boolean> {
    return this.objects.hasAny(attachmentPrefix(tenant));
  }

  /** Deletes the tenant's object with this hash (garbage collection only). */
  async delete(tenant: string, hash: string): Promise<void> {
    await this.objects.delete(attachmentKey(tenant, hash));
  }
}
