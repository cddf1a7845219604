/**
 * `--join CODE` (docs/protocol.md#share-links): a share link's join code is exchanged for a
 * short-lived guest token (`POST /api/shares/{code}/token`, valid 15 minutes and never past the
 * share's expiry), and exchanged again whenever the token is about to expire, so that a
 * long-running `start` outlives every single token. A refused exchange (the share was revoked or
 * has expired) ends the run: {@link ShareJoin.token} then rejects with a `SyncClientError`, which
 * stops the `SyncClient` (apps/cli/README.md, "Share links").
 */
import { SyncClientError, type TokenProvider } from '@diaryx-sync/protocol/node';
import { CliError } from './cli-error';
import { ExitCode, type ExitCodeValue } from './exit-codes';

/**
 * A token with less than this left is exchanged anew. More than the `SyncClient`'s refresh lead
 * (30 s before `exp`), so that its refresh always gets a new token.
 */
export const RENEW_MARGIN_MS = 60_000;

/** A guest token and what the exchange said about it. */
interface GuestToken {
  readonly token: string;
  readonly workspace: string;
  /** `expires_at`, ms since the epoch. */
  readonly expiresAt: number;
}

/** The outcome of one exchange. */
type Exchange =
  | { readonly ok: true; readonly guest: GuestToken }
  | {
      readonly ok: false;
      /** The server refused the code (404: unknown, expired or revoked): asking again cannot help. */
      readonly refused: boolean;
      readonly exitCode: ExitCodeValue;
      readonly message: string;
    };

/** The message of a refused exchange during a run. */
export const SHARE_ENDED_MESSAGE =
  'the share link was revoked or has expired (the join code is refused now); ask for a new one';

/** The guest tokens of one join code. */
export class ShareJoin {
  private renewing: Promise<string> | undefined;

  private constructor(
    private readonly url: URL,
    private current: GuestToken,
    private readonly now: () => number,
  ) {}

  /**
   * Exchanges `code` at `server` once (the workspace comes from the answer); throws a
   * {@link CliError} when the code is refused or the server cannot be reached.
   */
  static async open(server: string, code: string, now: () => number = Date.now): Promise<ShareJoin> {
    let url: URL;
    try {
      url = new URL(`/api/shares/${encodeURIComponent(code)}/token`, server);
      url.protocol = url.protocol === 'wss:' || url.protocol === 'https:' ? 'https:' : 'http:';
    } catch {
      throw new CliError(ExitCode.Usage, `--server must be a URL, got ${JSON.stringify(server)}`);
    }
    const first = await exchange(url, now);
    if (!first.ok) throw new CliError(first.exitCode, first.message);
    return new ShareJoin(url, first.guest, now);
  }

  /** The shared workspace. */
  get workspace(): string {
    return this.current.workspace;
  }

  /**
   * The token provider (for `SyncClient` and the attachment requests): the current guest token
   * while it has more than {@link RENEW_MARGIN_MS} left, else a new one (one exchange at a time).
   * Rejects with a `SyncClientError` when the code is refused (the run must stop), with a plain
   * error when the server could not answer (asked again later).
   */
  readonly token: TokenProvider = () => {
    if (this.current.expiresAt - this.now() > RENEW_MARGIN_MS) return Promise.resolve(this.current.token);
    this.renewing ??= this.renew().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  };

  private async renew(): Promise<string> {
    const next = await exchange(this.url, this.now);
    if (next.ok) {
      this.current = next.guest;
      return next.guest.token;
    }
    if (next.refused) throw new SyncClientError('unauthorized', SHARE_ENDED_MESSAGE, undefined, 404);
    throw new Error(`renewing the guest token: ${next.message}`);
  }
}

async function exchange(url: URL, now: () => number): Promise<Exchange> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST' });
  } catch (err) {
    return {
      ok: false,
      refused: false,
      exitCode: ExitCode.Unreachable,
      message: `cannot reach ${url.origin}: ${(err as Error).message}`,
    };
  }
  if (res.status === 404) {
    return {
      ok: false,
      refused: true,
      exitCode: ExitCode.Unauthorized,
      message: 'join code unknown, expired or revoked',
    };
  }
  if (res.status === 429) {
    return {
      ok: false,
      refused: false,
      exitCode: ExitCode.Unauthorized,
      message: `too many failed join attempts, retry in ${res.headers.get('retry-after') ?? '?'} s`,
    };
  }
  const body = (await res.json().catch(() => null)) as {
    token?: unknown;
    workspace?: unknown;
    expires_at?: unknown;
  } | null;
  const expiresAt = typeof body?.expires_at === 'string' ? Date.parse(body.expires_at) : NaN;
  if (res.status !== 201 || typeof body?.token !== 'string' || typeof body.workspace !== 'string') {
    return {
      ok: false,
      refused: false,
      exitCode: ExitCode.Failure,
      message: `join code exchange failed: HTTP ${res.status}`,
    };
  }
  // Without a readable expiry, assume the documented 15 minutes.
  const guest = {
    token: body.token,
    workspace: body.workspace,
    expiresAt: Number.isFinite(expiresAt) ? expiresAt : now() + 15 * 60_000,
  };
  return { ok: true, guest };
}
