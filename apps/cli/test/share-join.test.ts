/**
 * `--join CODE` guest tokens (share-join.ts, docs/protocol.md#share-links) against a stand-in of
 * `POST /api/shares/{code}/token`: the token is kept while it has more than a minute left and
 * exchanged again after that (one exchange at a time); a refused code ends the run with a
 * `SyncClientError`, any other failure is retried later.
 */
import { createServer, type Server } from 'node:http';
import { SyncClientError } from '@diaryx-sync/protocol/node';
import { CliError } from '../src/cli-error';
import { ExitCode } from '../src/exit-codes';
import { RENEW_MARGIN_MS, SHARE_ENDED_MESSAGE, ShareJoin } from '../src/share-join';

const CODE = `dxs_${'a'.repeat(43)}`;

describe('ShareJoin', () => {
  let server: Server;
  let base: string;
  /** What the stand-in answers next: a status, and the token lifetime (ms) of a 201. */
  let answer: { status: number; lifetimeMs: number };
  let exchanges = 0;
  let clock = 1_700_000_000_000;
  const now = (): number => clock;

  beforeAll(async () => {
    server = createServer((req, res) => {
      exchanges++;
      if (req.method !== 'POST' || req.url !== `/api/shares/${CODE}/token`) {
        res.writeHead(404).end();
        return;
      }
      if (answer.status !== 201) {
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end('{"error":{}}');
        return;
      }
      // Answers arrive a little later, so concurrent callers overlap.
      setTimeout(() => {
        res.writeHead(201, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            token: `guest-${exchanges}`,
            workspace: 'notes',
            role: 'editor',
            expires_at: new Date(clock + answer.lifetimeMs).toISOString(),
          }),
        );
      }, 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    answer = { status: 201, lifetimeMs: 15 * 60_000 };
    exchanges = 0;
  });

  it('keeps the guest token while it has more than the margin left, then exchanges the code again', async () => {
    const join = await ShareJoin.open(base, CODE, now);
    expect(join.workspace).toBe('notes');
    expect(exchanges).toBe(1);
    expect(await join.token()).toBe('guest-1');
    clock += 15 * 60_000 - RENEW_MARGIN_MS - 1;
    expect(await join.token()).toBe('guest-1');
    expect(exchanges).toBe(1);
    clock += 2;
    // Callers racing at renewal time share one exchange.
    const [a, b] = await Promise.all([join.token(), join.token()]);
    expect([a, b]).toEqual(['guest-2', 'guest-2']);
    expect(exchanges).toBe(2);
    expect(await join.token()).toBe('guest-2');
  });

  it('a share about to end gives short tokens: each one is renewed until the code is refused', async () => {
    answer = { status: 201, lifetimeMs: 5_000 };
    const join = await ShareJoin.open(base, CODE, now);
    // Less than the margin left from the start: every call exchanges the code again.
    expect(await join.token()).toBe('guest-2');
    expect(await join.token()).toBe('guest-3');
    answer = { status: 404, lifetimeMs: 0 };
    const err = await join.token().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncClientError);
    expect(err).toMatchObject({ kind: 'unauthorized', message: SHARE_ENDED_MESSAGE, httpStatus: 404 });
  });

  it('a failure that is not a refusal is a plain error (retried by the client), and the next call renews', async () => {
    answer = { status: 201, lifetimeMs: 10_000 };
    const join = await ShareJoin.open(base, CODE, now);
    answer = { status: 503, lifetimeMs: 0 };
    const err = await join.token().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(SyncClientError);
    expect((err as Error).message).toMatch(/HTTP 503/);
    answer = { status: 201, lifetimeMs: 15 * 60_000 };
    expect(await join.token()).toBe(`guest-${exchanges}`);
  });

  it('a refused code at the start is a CLI error (exit 3)', async () => {
    answer = { status: 404, lifetimeMs: 0 };
    const err = await ShareJoin.open(base, CODE, now).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({
      exitCode: ExitCode.Unauthorized,
      message: 'join code unknown, expired or revoked',
    });
  });
});
