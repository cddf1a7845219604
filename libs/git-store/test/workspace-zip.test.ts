import JSZip from 'jszip';
import { deflateRawSync } from 'node:zlib';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkWorkspaceZip,
  readWorkspaceZip,
  workspaceZipStream,
  ZipImportError,
  type RepoFile,
} from '@diaryx-sync/git-store';

async function zipOf(entries: Record<string, string | Buffer>): Promise<Buffer> {
  const zip = new JSZip();
  for (const [name, content] of Object.entries(entries)) zip.file(name, content);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/** Hand-made zip, so the names are stored exactly as given (duplicates included). */
function rawZipOf(entries: [string, Buffer][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of entries) {
    const nameBuf = Buffer.from(name, 'utf8');
    const data = deflateRawSync(content);
    const crc = crc32(content);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(content.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(content.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    const localPart = Buffer.concat([local, nameBuf, data]);
    locals.push(localPart);
    centrals.push(Buffer.concat([central, nameBuf]));
    offset += localPart.length;
  }
  const centralPart = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralPart.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralPart, end]);
}

const rawZip = (name: string, content: Buffer): Buffer => rawZipOf([[name, content]]);

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

async function streamToBuffer(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

describe('workspace zip', () => {
  it('round-trips files through export and import', async () => {
    const files: RepoFile[] = [
      { path: 'README.md', content: '---\ntitle: Home\n---\n\nhi ✓\n' },
      { path: 'a/b/c.md', content: 'deep' },
    ];
    const zip = await streamToBuffer(workspaceZipStream(files));
    expect(await readWorkspaceZip(zip)).toEqual(files);
  });

  it('skips directories, dotfiles and __MACOSX', async () => {
    const zip = await zipOf({
      'x.md': 'x',
      '.DS_Store': 'junk',
      '__MACOSX/x.md': 'junk',
      'dir/.hidden.md': 'h',
    });
    expect(await readWorkspaceZip(zip)).toEqual([{ path: 'x.md', content: 'x' }]);
  });

  it.each([
    ['../evil.md', 'unsafe_path'],
    ['a/../../evil.md', 'unsafe_path'],
    ['/etc/evil.md', 'unsafe_path'],
    ['C:/evil.md', 'unsafe_path'],
    ['a\\..\\evil.md', 'unsafe_path'],
    ['bad\u0001name.md', 'unsafe_path'],
    ['report\u202Edm.md', 'unsafe_path'],
    ['a\u2066b.md', 'unsafe_path'],
    ['x\u200Fy.md', 'unsafe_path'],
    ['x\u061Cy.md', 'unsafe_path'],
    ['CON.md', 'unsafe_path'],
    ['notes/aux.md', 'unsafe_path'],
    ['Com1.txt.md', 'unsafe_path'],
    ['lpt9/a.md', 'unsafe_path'],
    ['nul', 'unsafe_path'],
    [`${'n'.repeat(183)}.md`, 'unsafe_path'],
    [`${'d'.repeat(100)}/${'d'.repeat(100)}/x.md`, 'unsafe_path'],
  ])('refuses %j with %s', async (name, code) => {
    const err = await readWorkspaceZip(rawZip(name, Buffer.from('x'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZipImportError);
    expect((err as ZipImportError).code).toBe(code);
  });

  it('refuses oversize zips, files and zip bombs', async () => {
    const big = rawZip('big.md', Buffer.alloc(2 * 1024 * 1024, 0x61)); // compresses to a few KB
    expect(big.length).toBeLessThan(20_000);
    await expect(readWorkspaceZip(big, { maxFileBytes: 1024 * 1024 })).rejects.toMatchObject({
      code: 'too_large',
    });
    await expect(readWorkspaceZip(big, { maxTotalBytes: 1024 })).rejects.toMatchObject({ code: 'too_large' });
    await expect(readWorkspaceZip(big, { maxZipBytes: 100 })).rejects.toMatchObject({ code: 'too_large' });
    const many = await zipOf({ 'a.md': 'a', 'b.md': 'b', 'c.md': 'c' });
    await expect(readWorkspaceZip(many, { maxFiles: 2 })).rejects.toMatchObject({ code: 'too_many_files' });
  });

  it('reads non-markdown files as attachment bytes (docs/protocol.md#attachments)', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00, 0xfe]);
    const files = await readWorkspaceZip(rawZip('img/photo.png', png));
    expect(files).toEqual([{ path: 'img/photo.png', content: new Uint8Array(png) }]);
    await expect(readWorkspaceZip(rawZip('../photo.png', png))).rejects.toMatchObject({
      code: 'unsafe_path',
    });
  });

  it('refuses garbage and non-UTF-8 files', async () => {
    await expect(readWorkspaceZip(Buffer.from('not a zip at all'))).rejects.toMatchObject({
      code: 'invalid_zip',
    });
    await expect(readWorkspaceZip(rawZip('x.md', Buffer.from([0xff, 0xfe, 0x00])))).rejects.toMatchObject({
      code: 'invalid_file',
    });
  });

  it('accepts names next to the reserved ones and names at the length limits', async () => {
    // 255 UTF-8 bytes per name and 185 per path are the limits (docs/protocol.md#paths).
    const names = [
      'CONSOLE.md',
      'com10.md',
      'aux-notes/a.md',
      `${'n'.repeat(182)}.md`,
      `${'é'.repeat(91)}.md`,
    ];
    names.push(`${'d'.repeat(90)}/${'d'.repeat(90)}.md`);
    const zip = rawZipOf(names.map((n) => [n, Buffer.from('x')]));
    expect((await readWorkspaceZip(zip)).map((f) => f.path)).toHaveLength(names.length);
  });

  it('stores names in NFC and refuses two spellings of one name, or one name twice', async () => {
    const nfd = 'cafe\u0301.md';
    expect(await readWorkspaceZip(rawZip(nfd, Buffer.from('x')))).toEqual([
      { path: 'caf\u00e9.md', content: 'x' },
    ]);
    await expect(
      readWorkspaceZip(
        rawZipOf([
          [nfd, Buffer.from('a')],
          ['caf\u00e9.md', Buffer.from('b')],
        ]),
      ),
    ).rejects.toMatchObject({ code: 'unsafe_path' });
    await expect(
      readWorkspaceZip(
        rawZipOf([
          ['same.md', Buffer.from('a')],
          ['same.md', Buffer.from('b')],
        ]),
      ),
    ).rejects.toMatchObject({ code: 'unsafe_path' });
  });

  it('refuses too many entries from the end record before reading any entry', async () => {
    const entries: [string, Buffer][] = Array.from({ length: 30 }, (_, i) => [`.skip${i}`, Buffer.from('x')]);
    await expect(readWorkspaceZip(rawZipOf(entries), { maxEntries: 29 })).rejects.toMatchObject({
      code: 'too_many_files',
    });
    expect(await readWorkspaceZip(rawZipOf(entries), { maxEntries: 30 })).toEqual([]);
  });

  it('checks a zip on disk without keeping its contents', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zip-'));
    try {
      const file = join(dir, 'w.zip');
      await writeFile(
        file,
        rawZipOf([
          ['a.md', Buffer.from('hello')],
          ['b/c.md', Buffer.from('!')],
        ]),
      );
      expect(await checkWorkspaceZip({ file })).toEqual({ files: 2, bytes: 6 });
      await writeFile(file, rawZip('CON.md', Buffer.from('x')));
      await expect(checkWorkspaceZip({ file })).rejects.toMatchObject({ code: 'unsafe_path' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
