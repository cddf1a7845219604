/**
 * The public HTTP API calls the playground makes (docs/protocol.md, "HTTP API"), with the token as
 * a Bearer header. Errors become {@link ApiRefusal} carrying the server's stable code and message.
 */

/** A non-2xx answer: `{"error":{"code","message"}}`. */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRefusal';
  }
}

export interface WorkspaceEntry {
  readonly id: string;
  readonly name: string;
}

export interface CommitEntry {
  readonly id: string;
  readonly message: string;
  readonly timestamp: string;
}

export interface VersionEntry {
  readonly update_id: number;
  readonly timestamp: string;
  readonly origin: string;
  readonly device_id: string | null;
}

/** HTTP API client of one origin, authenticated with one token. */
export class HttpApi {
  constructor(
    private readonly token: string,
    private readonly origin: string = location.origin,
  ) {}

  /** `POST /api/tokens` (tenant admin): a short-lived token. */
  mintToken(request: {
    sub: string;
    ws: string[];
    role: 'editor' | 'viewer';
    ttl_s: number;
  }): Promise<{ token: string }> {
    return this.json('POST', '/api/tokens', request);
  }

  async workspaces(): Promise<WorkspaceEntry[]> {
    return (await this.json<{ workspaces: WorkspaceEntry[] }>('GET', '/api/workspaces')).workspaces;
  }

  /** The workspace's git commits, newest first. */
  async commits(ws: string, limit = 10): Promise<CommitEntry[]> {
    return (await this.json<{ commits: CommitEntry[] }>('GET', `${base(ws)}/history?limit=${limit}`)).commits;
  }

  commit(ws: string): Promise<{ commit_id: string; files: number }> {
    return this.json('POST', `${base(ws)}/commit`);
  }

  restoreCommit(ws: string, commitId: string): Promise<{ status: string; docs_updated: number }> {
    return this.json('POST', `${base(ws)}/restore`, { commit_id: commitId });
  }

  /** The update log of one file's body, newest first. */
  async fileVersions(ws: string, path: string, limit = 8): Promise<VersionEntry[]> {
    const doc = encodeURIComponent(bodyDocId(ws, path));
    return (
      await this.json<{ versions: VersionEntry[] }>('GET', `${base(ws)}/versions?doc=${doc}&limit=${limit}`)
    ).versions;
  }

  /** Restores a file's body to a version (a forward update: connected editors converge). */
  restoreFileVersion(ws: string, path: string, updateId: number): Promise<{ changed: boolean }> {
    const doc = encodeURIComponent(bodyDocId(ws, path));
    return this.json('POST', `${base(ws)}/versions/${updateId}/restore?doc=${doc}`);
  }

  /** The workspace's markdown files as a zip. */
  async snapshot(ws: string): Promise<Blob> {
    const res = await this.fetch('GET', `${base(ws)}/snapshot`);
    return res.blob();
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body);
    return (await res.json()) as T;
  }

  private async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.origin}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) {
      const parsed = (await res.json().catch(() => null)) as {
        error?: { code?: string; message?: string };
      } | null;
      throw new ApiRefusal(
        res.status,
        parsed?.error?.code ?? `http_${res.status}`,
        parsed?.error?.message ?? res.statusText,
      );
    }
    return res;
  }
}

function base(ws: string): string {
  return `/api/workspaces/${encodeURIComponent(ws)}`;
}

/** docs/protocol.md, "Names": `body:{workspaceId}/{path}`. */
function bodyDocId(ws: string, path: string): string {
  return `body:${ws}/${path}`;
}
