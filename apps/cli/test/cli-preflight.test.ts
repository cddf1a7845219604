/**
 * Errors a user can act on, found before any syncing starts: a missing token, a wrong URL path,
 * a TLS URL against a plain server, a folder that cannot be written or read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as testing from '@diaryx-sync/protocol/testing';
import { cleanupTempDirs, cli, tempDir } from './helpers/cli-harness';

jest.setTimeout(30000);

const WS = 'ws_pre';
let server: testing.TestSyncServer;

beforeEach(async () => {
  server = await testing.startTestSyncServer({ workspaces: [WS], tokens: { tok: 'editor' } });
});
afterEach(async () => {
  await server.close();
  cleanupTempDirs();
});

const lines = (text: string): string[] => text.trim().split('\n');

/** `diaryx-sync <command> <folder>` against `serverUrl` (the test server by default) with a valid token. */
const run = (command: 'pull' | 'push', folder: string, serverUrl = server.url) =>
  cli([command, folder, '--server', serverUrl, '--workspace', WS, '--token', 'tok']);

describe('diaryx-sync checks what it can before syncing', () => {
  it('a missing token is a usage error, not "token rejected"', async () => {
    const r = await cli(['pull', tempDir(), '--server', server.url, '--workspace', WS]);
    expect(r.code).toBe(2);
    expect(lines(r.err)).toEqual([
      'diaryx-sync: error: missing --token (or DIARYX_SYNC_TOKEN): the server needs an access token for the workspace',
    ]);
  });

  it('a wrong URL path says so, not "workspace not found"', async () => {
    const r = await run('pull', tempDir(), `ws://127.0.0.1:${server.port}/not/the/gateway`);
    expect(r.code).toBe(5);
    expect(lines(r.err)).toEqual([
      'diaryx-sync: error: no sync endpoint at this URL (HTTP 404): the server URL should be the gateway address, e.g. ws://localhost:8080',
    ]);
  });

  it('wss:// against a plain server explains the TLS mismatch at once (no retries)', async () => {
    const started = Date.now();
    const r = await run('pull', tempDir(), `wss://127.0.0.1:${server.port}`);
    expect(r.code).toBe(5);
    expect(lines(r.err)).toEqual([
      'diaryx-sync: error: TLS handshake failed: the server does not speak TLS on this port (use ws:// or http:// instead of wss:// or https://)',
    ]);
    // Three retries with backoff would take several seconds.
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('an unwritable target folder is reported before anything is downloaded', async () => {
    // sysfs refuses new files even for root, where permission bits would not.
    const r = await run('pull', '/sys/kernel');
    expect(r.code).toBe(8);
    expect(lines(r.err)).toEqual([
      expect.stringMatching(/^diaryx-sync: error: cannot write to folder \/sys\/kernel \(/),
    ]);
    expect(server.core.docs.size).toBe(0); // never connected: nothing was even opened
  });

  it('a target below a file is reported as such', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'file'), 'x');
    const r = await run('pull', path.join(dir, 'file', 'sub'));
    expect(r.code).toBe(8);
    expect(lines(r.err)).toEqual([
      `diaryx-sync: error: cannot create folder ${path.join(dir, 'file', 'sub')} (a parent is not a folder)`,
    ]);
  });

  it('push of a file instead of a folder is reported up front', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'x'));
    writeFileSync(path.join(dir, 'x', 'a.md'), 'a');
    const r = await run('push', path.join(dir, 'x', 'a.md'));
    expect(r.code).toBe(8);
    expect(lines(r.err)).toEqual([`diaryx-sync: error: ${path.join(dir, 'x', 'a.md')} is not a folder`]);
  });
});

describe('exit codes are documented once', () => {
  it('--help and the README list the same exit codes with the same meanings', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const fromReadme = [...readme.matchAll(/^\| (\d+)\s*\| (.+?)\s*\|$/gm)].map((m) => `${m[1]} ${m[2]}`);
    const help = await cli(['pull', '--help']);
    const fromHelp = [...help.out.matchAll(/^\s+(\d+)\s{2}(.+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(fromReadme).toHaveLength(11);
    expect(fromHelp).toEqual(fromReadme);
  });
});
