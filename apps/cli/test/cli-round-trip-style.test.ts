/**
 * Files come back as they went in: a folder with real-world frontmatter styles pushed and pulled
 * into the same folder is byte-identical (nothing rewritten), and a remote change of one file
 * touches only that file and only the keys that changed.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as testing from '@diaryx-sync/protocol/testing';
import { cleanupTempDirs, cli, tempDir } from './helpers/cli-harness';

jest.setTimeout(30000);

const WS = 'ws_style';
let server: testing.TestSyncServer;
const conn = (): string[] => ['--server', server.url, '--workspace', WS, '--token', 'tok'];

beforeEach(async () => {
  server = await testing.startTestSyncServer({ workspaces: [WS], tokens: { tok: 'editor' } });
});
afterEach(async () => {
  await server.close();
  cleanupTempDirs();
});

const CORPUS: Record<string, string> = {
  'flow.md': '---\ntitle: Flow\ntags: [a, b]\n---\n\nBody with tags.\n',
  'quoted.md': '---\ntitle: \'Single quoted\'\ndescription: "double: quoted"\n---\n\nquoted\n',
  'comments.md': '---\n# the title\ntitle: With comments # trailing\nstatus: draft\n---\n\ncomment body\n',
  'crlf.md': '---\r\ntitle: Windows\r\ntags:\r\n  - x\r\n  - y\r\n---\r\n\r\nline one\r\nline two\r\n',
  'plain.md': 'no frontmatter at all\n\njust text\n',
  'tight.md': '---\ntitle: Tight\n---\nbody right after the fence\n',
  'dir/index.md': '---\ntitle: Index\ncontents: [child.md]\n---\n\nindex\n',
  'dir/child.md': '---\ntitle: Child\npart_of: index.md\n---\n\nchild\n',
};

function writeCorpus(dir: string): void {
  for (const [p, content] of Object.entries(CORPUS)) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), content);
  }
}

function readAll(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out[path.relative(dir, full).split(path.sep).join('/')] = readFileSync(full, 'utf8');
    }
  };
  walk(dir);
  return out;
}

describe('push → pull keeps files byte-identical', () => {
  it('pull into the pushed folder writes nothing and every byte is unchanged', async () => {
    const dir = tempDir();
    writeCorpus(dir);
    expect((await cli(['push', dir, ...conn()])).code).toBe(0);
    const pull = await cli(['pull', dir, ...conn()]);
    expect(pull.code).toBe(0);
    expect(pull.out).toMatch(/\(0 written, 8 unchanged\)/);
    expect(readAll(dir)).toEqual(CORPUS);
  });

  it('a remote change touches only that file, keeping its style', async () => {
    const dir = tempDir();
    writeCorpus(dir);
    expect((await cli(['push', dir, ...conn()])).code).toBe(0);
    // Another client edits flow.md's title and body.
    const other = tempDir();
    expect((await cli(['pull', other, ...conn()])).code).toBe(0);
    const theirs = readFileSync(path.join(other, 'flow.md'), 'utf8');
    writeFileSync(
      path.join(other, 'flow.md'),
      theirs.replace('title: Flow', 'title: Flow 2').replace('Body with tags.', 'Body changed.'),
    );
    expect((await cli(['push', other, ...conn()])).code).toBe(0);

    const pull = await cli(['pull', dir, ...conn()]);
    expect(pull.out).toMatch(/\(1 written, 7 unchanged\)/);
    const after = readAll(dir);
    const flow = after['flow.md']!;
    expect(flow).toMatch(/^---\ntitle: Flow 2\ntags: \[a, b\]\nupdated: .*\n---\n\nBody changed\.\n$/);
    delete after['flow.md'];
    const { ['flow.md']: _changed, ...rest } = CORPUS;
    expect(after).toEqual(rest);
  });
});
