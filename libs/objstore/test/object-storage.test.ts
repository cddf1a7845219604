import { ObjectStorage, gitObjectKey, backupKey } from '@diaryx-sync/objstore';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('ObjectStorage against embedded s3rver', () => {
  let s3: EmbeddedS3;
  let storage: ObjectStorage;

  beforeAll(async () => {
    s3 = await startEmbeddedS3({ port: 0, bucket: 'objstore-test' });
    storage = new ObjectStorage(s3.config);
  });
  afterAll(async () => {
    await s3.stop();
  });

  it('creates the bucket on start and is reachable', async () => {
    await expect(storage.assertReachable()).resolves.toBeUndefined();
    await expect(storage.ensureBucket()).resolves.toBeUndefined();
  });

  it('puts, gets, stats, lists and deletes objects', async () => {
    const data = Buffer.from([0, 1, 2, 255, 254]);
    await storage.put('t1/ws/a/b.bin', data);
    await storage.put('t1/ws/a/c.txt', 'hello');
    expect(await storage.get('t1/ws/a/b.bin')).toEqual(data);
    expect(await storage.stat('t1/ws/a/c.txt')).toEqual({ size: 5 });
    expect((await storage.list('t1/ws/a/')).sort()).toEqual(['t1/ws/a/b.bin', 't1/ws/a/c.txt']);
    await storage.delete('t1/ws/a/b.bin');
    expect(await storage.get('t1/ws/a/b.bin')).toBeNull();
    expect(await storage.exists('t1/ws/a/b.bin')).toBe(false);
    await expect(storage.delete('t1/ws/a/missing')).resolves.toBeUndefined();
  });

  it('a taken port rejects with EADDRINUSE (the process keeps running); a kept directory survives a restart', async () => {
    await expect(startEmbeddedS3({ port: s3.port, bucket: 'objstore-test' })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    const directory = await mkdtemp(join(tmpdir(), 'objstore-kept-'));
    try {
      let kept = await startEmbeddedS3({ port: 0, bucket: 'kept', directory });
      await new ObjectStorage(kept.config).put('a/b', Buffer.from('still here'));
      await kept.stop();
      kept = await startEmbeddedS3({ port: 0, bucket: 'kept', directory });
      expect((await new ObjectStorage(kept.config).get('a/b'))?.toString()).toBe('still here');
      await kept.stop();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('returns null for missing keys', async () => {
    expect(await storage.get('nope/nothing')).toBeNull();
    expect(await storage.stat('nope/nothing')).toBeNull();
  });
});

describe('keys', () => {
  it('are tenant-qualified', () => {
    const oid = 'a'.repeat(40);
    expect(gitObjectKey('ten', 'ws_1', oid)).toBe(`ten/ws_1/git/objects/aa/${'a'.repeat(38)}`);
    expect(backupKey('ten', 'ws_1', 'x.bin')).toBe('ten/ws_1/backups/x.bin');
  });
  it('reject ids that could escape the prefix', () => {
    expect(() => gitObjectKey('../x', 'ws', 'a'.repeat(40))).toThrow();
    expect(() => gitObjectKey('t', 'ws/..', 'a'.repeat(40))).toThrow();
    expect(() => gitObjectKey('t', 'ws', 'zz')).toThrow();
    expect(() => backupKey('t', 'ws', '../a')).toThrow();
  });
});
