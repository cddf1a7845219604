import { Writable } from 'node:stream';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli, type CliIo } from '@diaryx-sync/cli';
import * as testing from '@diaryx-sync/protocol/testing';
import { cleanupTempDirs, serverBody, tempDir } from './helpers/cli-harness';

// Real sockets and timers on a shared 2-core machine: allow more than Jest's 5 s default.
jest.setTimeout(30000);

const WS = 'ws_big';

/** A fake terminal that records what the progress bar draws. */
class FakeTty extends Writable {
  isTTY = true;
  columns = 100;
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  cursorTo(): boolean {
    return true;
  }
  clearLine(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
}

describe('progress bars and a larger workspace', () => {
  let server: testing.TestSyncServer;
  beforeAll(async () => {
    server = await testing.startTestSyncServer({ workspaces: [WS], tokens: { tok: 'editor' } });
  });
  afterAll(async () => {
    await server.close();
    cleanupTempDirs();
  });

  it('pushes and pulls 300 files with a progress bar on a terminal', async () => {
    const src = tempDir();
    for (let d = 0; d < 10; d++) {
      mkdirSync(path.join(src, `dir${d}`));
      for (let i = 0; i < 30; i++) {
        writeFileSync(
          path.join(src, `dir${d}`, `note${i}.md`),
          `---\ntitle: Note ${d}-${i}\n---\n\n${'lorem ipsum '.repeat(40)}${d}-${i}\n`,
        );
      }
    }
    const tty = new FakeTty();
    let out = '';
    const io: CliIo = { out: (t) => (out += t), err: () => undefined, progressStream: tty, env: {} };
    const conn = ['--server', server.url, '--workspace', WS, '--token', 'tok'];
    const t0 = Date.now();
    expect(await runCli(['push', src, ...conn], io)).toBe(0);
    const pushMs = Date.now() - t0;
    expect(out).toMatch(/pushed 300 files .* 301 documents saved/);
    expect(tty.text).toMatch(/saving \[[^\]]*\] \d+\/301 files/);
    expect(serverBody(server, WS, 'dir9/note29.md')).toMatch(/9-29\n$/);

    const dst = tempDir();
    const t1 = Date.now();
    expect(await runCli(['pull', dst, ...conn], io)).toBe(0);
    const pullMs = Date.now() - t1;
    expect(out).toMatch(/pulled 300 files .* \(300 written, 0 unchanged\)/);
    expect(tty.text).toMatch(/downloading \[[^\]]*\] \d+\/300 files/);
    // Figures for the report (visible with --verbose).
    process.stdout.write(`push 300 files: ${pushMs} ms, pull 300 files: ${pullMs} ms\n`);
  });

  it('draws nothing when the stream is not a terminal', async () => {
    const plain = new FakeTty();
    plain.isTTY = false;
    const io: CliIo = { out: () => undefined, err: () => undefined, progressStream: plain, env: {} };
    expect(
      await runCli(['pull', tempDir(), '--server', server.url, '--workspace', WS, '--token', 'tok'], io),
    ).toBe(0);
    expect(plain.text).toBe('');
  });
});
