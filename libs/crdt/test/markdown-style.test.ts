/**
 * Files come back as they went in: a real-world corpus of frontmatter styles goes into a
 * workspace as a client's push does (a file without `updated` is stamped), comes out through
 * `materializeWorkspace`, and `restyleMarkdown` over the author's copy gives back the same bytes;
 * a remote change touches only the keys it changed.
 */
import {
  BodyDocManager,
  materializeWorkspace,
  parseMarkdownFiles,
  restyleMarkdown,
  WorkspaceCrdt,
} from '../src';

/** Frontmatter styles found in real notes folders. */
const CORPUS: Record<string, string> = {
  'flow-list.md': '---\ntitle: Flow\ntags: [a, b]\n---\n\nBody with tags.\n',
  'quoted.md': '---\ntitle: \'Single quoted\'\ndescription: "double: quoted"\n---\n\nquoted\n',
  'comments.md': '---\n# the title\ntitle: With comments # trailing\nstatus: draft\n---\n\ncomment body\n',
  'crlf.md': '---\r\ntitle: Windows\r\ntags:\r\n  - x\r\n  - y\r\n---\r\n\r\nline one\r\nline two\r\n',
  'plain.md': 'no frontmatter at all\n\njust text\n',
  'no-blank-line.md': '---\ntitle: Tight\n---\nbody right after the fence\n',
  'updated-number.md': '---\ntitle: Millis\nupdated: 1700000000000\n---\n\nx\n',
  'nested.md': '---\ntitle: Nested\nmeta: {a: 1, b: [x, y]}\nlist:\n- one\n- two\n---\n\nnested\n',
  'folder/index.md': '---\ntitle: Index\ncontents: [child.md]\n---\n\nindex\n',
  'folder/child.md': '---\ntitle: Child\npart_of: index.md\n---\n\nchild\n',
  'unicode.md': '---\ntitle: "Café ☕"\n---\n\nnaïve\n',
  'empty-body.md': '---\ntitle: Empty\n---\n\n',
};

/** Pushes the corpus into a workspace the way a client does; returns it and its bodies. */
function push(files: Record<string, string>, now = 1_800_000_000_000) {
  const ws = new WorkspaceCrdt();
  const bodies = new BodyDocManager();
  const parsed = parseMarkdownFiles(Object.entries(files).map(([path, content]) => ({ path, content })));
  for (const [path, meta] of parsed.files) {
    ws.setFile(path, { ...meta, modified_at: meta.modified_at > 0 ? meta.modified_at : now });
    bodies.getOrCreate(path).setBody(parsed.bodies.get(path) ?? '');
  }
  return { ws, bodies, knownPaths: new Set(parsed.files.keys()) };
}

function materialized(ws: WorkspaceCrdt, bodies: BodyDocManager): Map<string, string> {
  return new Map(materializeWorkspace(ws, (p) => bodies.get(p)?.getBody()).map((f) => [f.path, f.content]));
}

describe('restyleMarkdown', () => {
  it('gives back every file of the corpus byte for byte after push → materialize', () => {
    const { ws, bodies, knownPaths } = push(CORPUS);
    const out = materialized(ws, bodies);
    for (const [path, original] of Object.entries(CORPUS)) {
      const canonical = out.get(path);
      expect(canonical).toBeDefined();
      expect({ path, text: restyleMarkdown(original, canonical!, { path, knownPaths }) }).toEqual({
        path,
        text: original,
      });
    }
    // Without it, most of the corpus would be rewritten: the test exercises the style cases.
    const rewritten = Object.entries(CORPUS).filter(([p, c]) => out.get(p) !== c).length;
    expect(rewritten).toBeGreaterThanOrEqual(8);
  });

  it('changes only the keys a remote edit changed, keeping flow lists, quotes and comments', () => {
    const original = '---\n# keep me\ntitle: Old title\ntags: [a, b]\nauthor: "Ada"\n---\n\nbody\n';
    const { ws, bodies, knownPaths } = push({ 'n.md': original });
    ws.setFile('n.md', { ...ws.getFile('n.md')!, title: 'New title', modified_at: 1_900_000_000_000 });
    const next = materialized(ws, bodies).get('n.md')!;
    const text = restyleMarkdown(original, next, { path: 'n.md', knownPaths });
    expect(text).toContain('# keep me\n');
    expect(text).toContain('tags: [a, b]\n');
    expect(text).toContain('author: "Ada"\n');
    expect(text).toContain('title: New title\n');
    expect(text).toContain('updated: 2030-03-17T17:46:40.000Z\n');
    expect(text.endsWith('\n---\n\nbody\n')).toBe(true);
  });

  it('takes a remote body change and adds `updated` only then', () => {
    const original = '---\ntitle: T\ntags: [x]\n---\n\nold body\n';
    const { ws, bodies, knownPaths } = push({ 't.md': original });
    bodies.get('t.md')!.setBody('new body\n');
    const next = materialized(ws, bodies).get('t.md')!;
    const text = restyleMarkdown(original, next, { path: 't.md', knownPaths });
    expect(text).toBe('---\ntitle: T\ntags: [x]\nupdated: 2027-01-15T08:00:00.000Z\n---\n\nnew body\n');
  });

  it('keeps CRLF line endings of a changed file', () => {
    const original = CORPUS['crlf.md']!;
    const { ws, bodies, knownPaths } = push({ 'crlf.md': original });
    ws.setFile('crlf.md', { ...ws.getFile('crlf.md')!, title: 'Renamed' });
    const text = restyleMarkdown(original, materialized(ws, bodies).get('crlf.md')!, {
      path: 'crlf.md',
      knownPaths,
    });
    expect(text.startsWith('---\r\ntitle: Renamed\r\ntags:\r\n  - x\r\n  - y\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('removes keys the remote side removed and never keeps stale values', () => {
    const original = '---\ntitle: T\nstatus: draft\n---\n\nb\n';
    const { ws, bodies, knownPaths } = push({ 's.md': original });
    const meta = ws.getFile('s.md')!;
    ws.setFile('s.md', { ...meta, extra: {} });
    const next = materialized(ws, bodies).get('s.md')!;
    const text = restyleMarkdown(original, next, { path: 's.md', knownPaths });
    expect(text).not.toContain('status');
    expect(parseMarkdownFiles([{ path: 's.md', content: text }]).files.get('s.md')!.extra).toEqual({});
  });

  it('falls back to the canonical text when the copy on disk cannot be parsed', () => {
    const next = '---\ntitle: T\n---\n\nb\n';
    expect(restyleMarkdown('---\ntitle: [unclosed\n---\n\nb\n', next, { path: 'x.md' })).toBe(next);
  });
});
