/**
 * Disk/CRDT parity: markdown files on disk and the CRDT state stay in lockstep through local
 * file operations and through remote updates (renames and deletes included).
 */
import { mkdtemp, mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import {
  BodyDocManager,
  materializeWorkspace,
  parentDir,
  parseMarkdownFiles,
  WorkspaceCrdt,
  type FileChanges,
  type MarkdownFile,
} from '../src';

async function listMarkdown(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.name.endsWith('.md')) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

/** A workspace replica with a directory of markdown files. */
class DiskReplica {
  readonly ws = new WorkspaceCrdt();
  readonly bodies = new BodyDocManager();
  constructor(readonly dir: string) {}

  private abs(path: string): string {
    return join(this.dir, ...path.split('/'));
  }

  private async readAll(): Promise<MarkdownFile[]> {
    const paths = await listMarkdown(this.dir);
    return Promise.all(
      paths.map(async (path) => ({ path, content: await readFile(this.abs(path), 'utf8') })),
    );
  }

  private async write(path: string, content: string): Promise<void> {
    await mkdir(dirname(this.abs(path)), { recursive: true });
    await writeFile(this.abs(path), content);
  }

  private materialized(): Map<string, string> {
    const bodyOf = (p: string): string | undefined => this.bodies.get(p)?.getBody();
    return new Map(materializeWorkspace(this.ws, bodyOf).map((f) => [f.path, f.content]));
  }

  /** Writes the CRDT view of the given files (or of every live file) and removes dead files. */
  async writeFromCrdt(paths?: Iterable<string>): Promise<void> {
    const files = this.materialized();
    const targets = paths ? [...paths] : [...files.keys()];
    for (const p of targets) {
      const content = files.get(p);
      if (content !== undefined) await this.write(p, content);
    }
    if (!paths) for (const p of await listMarkdown(this.dir)) if (!files.has(p)) await unlink(this.abs(p));
  }

  // ---- local operations (what a user or editor does on disk, mirrored into the CRDT)

  /** A user writes a file on disk; it is ingested into the CRDT. */
  async userWrite(path: string, content: string): Promise<void> {
    await this.write(path, content);
    const parsed = parseMarkdownFiles(await this.readAll());
    const meta = parsed.files.get(path);
    if (!meta) throw new Error(`not parsed: ${path}`);
    this.ws.setFile(path, meta);
    this.bodies.getOrCreate(path).setBody(parsed.bodies.get(path) ?? '');
    if (meta.part_of) {
      const parent = this.ws.getFile(meta.part_of);
      if (parent && !(parent.contents ?? []).includes(path)) {
        this.ws.setFile(meta.part_of, { ...parent, contents: [...(parent.contents ?? []), path] });
      }
    }
    await this.writeFromCrdt();
  }

  /** A user moves a file on disk (path-mode move: the key moves, links follow). */
  async userMove(from: string, to: string): Promise<void> {
    await mkdir(dirname(this.abs(to)), { recursive: true });
    await rename(this.abs(from), this.abs(to));
    const meta = this.ws.getFile(from);
    if (!meta) throw new Error(`no such file: ${from}`);
    this.ws.doc.transact(() => {
      this.ws.deleteFile(from);
      this.ws.setFile(to, { ...meta, filename: to.slice(to.lastIndexOf('/') + 1) });
      if (meta.part_of) {
        const parent = this.ws.getFile(meta.part_of);
        if (parent)
          this.ws.setFile(meta.part_of, {
            ...parent,
            contents: [...(parent.contents ?? []).filter((c) => c !== from), to],
          });
      }
    });
    await this.bodies.renameDoc(from, to);
    await this.writeFromCrdt();
  }

  /** A user deletes a file on disk. */
  async userDelete(path: string): Promise<void> {
    await unlink(this.abs(path));
    this.ws.deleteFile(path);
    this.bodies.removeDoc(path);
    await this.writeFromCrdt();
  }

  // ---- remote sync

  /** Pulls workspace and body updates from `peer` and reconciles the disk from the change report. */
  async pullFrom(peer: DiskReplica): Promise<FileChanges> {
    const changes = this.ws.applyUpdate(peer.ws.encodeStateAsUpdate(this.ws.getSyncState()));
    for (const r of changes.renamed) {
      await this.bodies.renameDoc(r.from, r.to);
      await mkdir(dirname(this.abs(r.to)), { recursive: true });
      await rename(this.abs(r.from), this.abs(r.to));
    }
    for (const p of changes.deleted) {
      this.bodies.removeDoc(p);
      await rm(this.abs(p), { force: true });
    }
    const touched = new Set<string>([
      ...changes.created,
      ...changes.modified,
      ...changes.restored,
      ...changes.renamed.map((r) => r.to),
    ]);
    for (const path of peer.bodies.loadedPaths()) {
      if (!this.ws.getFile(path) || this.ws.getFile(path)?.deleted) continue;
      const mine = this.bodies.getOrCreate(path);
      const before = mine.getBody();
      mine.applyUpdate(peer.bodies.get(path)!.encodeStateAsUpdate(mine.getSyncState()));
      if (mine.getBody() !== before) touched.add(path);
    }
    await this.writeFromCrdt(touched);
    return changes;
  }

  /** Asserts disk == CRDT: path set, frontmatter metadata and bodies. */
  async expectParity(): Promise<void> {
    const disk = await this.readAll();
    const live = this.ws.listFiles();
    expect(disk.map((f) => f.path)).toEqual(live.map((f) => f.path));
    const parsed = parseMarkdownFiles(disk);
    expect(parsed.problems).toEqual([]);
    for (const f of live) {
      expect({ path: f.path, meta: parsed.files.get(f.path) }).toEqual({ path: f.path, meta: f.metadata });
      expect({ path: f.path, body: parsed.bodies.get(f.path) }).toEqual({
        path: f.path,
        body: this.bodies.get(f.path)?.getBody() ?? '',
      });
    }
  }
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'crdt-parity-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

test('local write / move / rewrite / delete keep disk and CRDT in lockstep', async () => {
  const a = new DiskReplica(join(root, 'local'));
  await mkdir(a.dir, { recursive: true });
  await a.userWrite('README.md', '---\ntitle: Home\ncontents: []\n---\n\n# Home\n');
  await a.expectParity();
  await a.userWrite(
    'notes/one.md',
    '---\ntitle: One\npart_of: ../README.md\nupdated: 1700000000000\n---\n\nFirst child 😀\n',
  );
  await a.userWrite(
    'notes/two.md',
    '---\ntitle: Two\npart_of: "[Home](../README.md)"\ntags: [x]\n---\n\nSecond child\n',
  );
  await a.expectParity();
  expect(a.ws.getFile('README.md')?.contents).toEqual(['notes/one.md', 'notes/two.md']);
  expect(a.ws.getFile('notes/one.md')?.part_of).toBe('README.md');

  await a.userMove('notes/one.md', 'archive/one.md');
  await a.expectParity();
  expect(a.ws.getFile('README.md')?.contents).toEqual(['notes/two.md', 'archive/one.md']);

  await a.userWrite(
    'archive/one.md',
    '---\ntitle: One (archived)\npart_of: ../README.md\n---\n\nRewritten body\n',
  );
  await a.expectParity();
  expect(a.bodies.get('archive/one.md')?.getBody()).toBe('Rewritten body\n');

  await a.userDelete('notes/two.md');
  await a.expectParity();
  expect(await listMarkdown(a.dir)).toEqual(['README.md', 'archive/one.md']);
  expect(a.ws.getFile('README.md')?.contents).toEqual(['archive/one.md']);
});

test('two replicas synced through encoded updates, with renames and deletes', async () => {
  const a = new DiskReplica(join(root, 'a'));
  const b = new DiskReplica(join(root, 'b'));
  await mkdir(a.dir, { recursive: true });
  await mkdir(b.dir, { recursive: true });

  await a.userWrite('README.md', '---\ntitle: Home\ncontents: []\n---\n\nroot\n');
  await a.userWrite('notes/one.md', '---\ntitle: One\npart_of: ../README.md\n---\n\nbody one\n');
  await a.userWrite('notes/two.md', '---\ntitle: Two\npart_of: ../README.md\n---\n\nbody two\n');
  let changes = await b.pullFrom(a);
  expect(changes.created.sort()).toEqual(['README.md', 'notes/one.md', 'notes/two.md']);
  await a.expectParity();
  await b.expectParity();

  // rename on A arrives on B as a rename, the body follows
  await a.userMove('notes/one.md', 'archive/one.md');
  changes = await b.pullFrom(a);
  expect(changes.renamed).toEqual([{ from: 'notes/one.md', to: 'archive/one.md' }]);
  await b.expectParity();
  expect(b.bodies.get('archive/one.md')?.getBody()).toBe('body one\n');

  // edits on B flow back to A
  await b.userWrite('archive/one.md', '---\ntitle: One\npart_of: ../README.md\n---\n\nedited on B\n');
  changes = await a.pullFrom(b);
  expect(changes.modified).toEqual([]);
  await a.expectParity();
  expect(a.bodies.get('archive/one.md')?.getBody()).toBe('edited on B\n');

  // delete on B
  await b.userDelete('notes/two.md');
  changes = await a.pullFrom(b);
  expect(changes.deleted).toEqual(['notes/two.md']);
  expect(changes.modified).toEqual(['README.md']);
  await a.expectParity();
  await b.expectParity();
  expect(await listMarkdown(a.dir)).toEqual(['README.md', 'archive/one.md']);

  // concurrent edits converge
  await a.userWrite('notes/three.md', '---\ntitle: Three\npart_of: ../README.md\n---\n\nfrom A\n');
  await b.userWrite('notes/four.md', '---\ntitle: Four\npart_of: ../README.md\n---\n\nfrom B\n');
  await b.pullFrom(a);
  await a.pullFrom(b);
  await a.expectParity();
  await b.expectParity();
  expect(a.ws.listFiles().map((f) => f.path)).toEqual(b.ws.listFiles().map((f) => f.path));
  expect(parentDir('notes/four.md')).toBe('notes');
});
