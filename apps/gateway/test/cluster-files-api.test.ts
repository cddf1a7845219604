/**
 * Server-side document access (docs/protocol.md#files): read, write and delete one file, apply a
 * raw Yjs update, on a real topology (gateway + doc service processes from `dist`; run
 * `npm run build` first). A PUT is an ordinary remote edit for a connected /sync2 client and keeps
 * what that client typed concurrently; roles and tenancy are those of the sockets.
 */
import { WorkspaceCrdt } from '@diaryx-sync/crdt';
import * as Y from 'yjs';
import {
  bodyText,
  startCluster,
  Sync2TestClient,
  type TestCluster,
  type TestTenant,
} from './helpers/cluster';

interface Res {
  status: number;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience
  headers: Headers;
}

describe('files API (gateway + doc service)', () => {
  let cluster: TestCluster;
  let tenant: TestTenant;
  let other: TestTenant;
  let editor: string;
  let viewer: string;

  const call = async (
    method: string,
    path: string,
    token: string,
    body?: string | Uint8Array,
    headers: Record<string, string> = {},
  ): Promise<Res> => {
    const res = await fetch(cluster.http() + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...headers },
      body,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, headers: res.headers };
  };
  const putMarkdown = (path: string, token: string, markdown: string) =>
    call('PUT', `/api/workspaces/w1/files/${path}`, token, markdown, { 'content-type': 'text/markdown' });

  beforeAll(async () => {
    cluster = await startCluster({ docServices: 1 });
    tenant = await cluster.createTenant('files');
    other = await cluster.createTenant('files-other');
    await cluster.createWorkspace(tenant, 'w1');
    await cluster.createWorkspace(other, 'w1');
    editor = await cluster.token({ tid: tenant.id, ws: ['w1'], role: 'editor' });
    viewer = await cluster.token({ tid: tenant.id, ws: ['w1'], role: 'viewer' });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  test('PUT markdown creates the file; GET reads it back as JSON and as markdown; a client sees it', async () => {
    const client = await Sync2TestClient.connect(cluster.ws(), editor);
    try {
      const wsDoc = await client.openSynced('workspace:w1');
      const created = await putMarkdown('notes/a.md', editor, '---\ntitle: First\n---\n\nHello world\n');
      expect(created.status).toBe(201);
      expect(created.json).toEqual({
        path: 'notes/a.md',
        created: true,
        updated_docs: ['body:w1/notes/a.md', 'workspace:w1'],
      });
      // Read your write: the answer came after the shard persisted it.
      const read = await call('GET', '/api/workspaces/w1/files/notes/a.md', editor);
      expect(read.status).toBe(200);
      expect(read.json).toEqual({
        path: 'notes/a.md',
        frontmatter: expect.objectContaining({ title: 'First' }),
        body: 'Hello world\n',
      });
      const md = await call('GET', '/api/workspaces/w1/files/notes/a.md', viewer, undefined, {
        accept: 'text/markdown',
      });
      expect(md.status).toBe(200);
      expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
      expect(md.text).toMatch(/^---\ntitle: First\n(.|\n)*---\n\nHello world\n$/);
      await client.waitFor(
        () => new WorkspaceCrdt(wsDoc).listFiles().some((f) => f.path === 'notes/a.md'),
        10_000,
        'the new entry on the connected client',
      );
      // The same content again changes nothing.
      const again = await putMarkdown('notes/a.md', editor, md.text);
      expect(again.status).toBe(200);
      expect(again.json).toEqual({ path: 'notes/a.md', created: false, updated_docs: [] });
    } finally {
      client.close();
    }
  }, 60_000);

  test('a PUT is a normal remote edit for a connected client and keeps its concurrent typing', async () => {
    await putMarkdown('story.md', editor, 'The quick fox jumps.\n');
    const client = await Sync2TestClient.connect(cluster.ws(), editor);
    try {
      const body = await client.openSynced('body:w1/story.md');
      expect(bodyText(body)).toBe('The quick fox jumps.\n');
      // The client types "Once: " at the start while (concurrently) the backend rewrites the end:
      // the client's edit is made on a copy of the pre-PUT state and only sent after the PUT.
      const offline = new Y.Doc();
      Y.applyUpdate(offline, Y.encodeStateAsUpdate(body));
      const before = Y.encodeStateVector(offline);
      offline.getText('body').insert(0, 'Once: ');
      const typing = Y.encodeStateAsUpdate(offline, before);

      const put = await call(
        'PUT',
        '/api/workspaces/w1/files/story.md',
        editor,
        JSON.stringify({ body: 'The quick fox sleeps.\n' }),
        { 'content-type': 'application/json' },
      );
      expect(put.status).toBe(200);
      await client.waitFor(() => bodyText(body).includes('sleeps'), 10_000, 'the PUT on the client');
      expect(bodyText(body)).toBe('The quick fox sleeps.\n');
      Y.applyUpdate(body, typing); // now sent to the server as the client's own update
      expect(bodyText(body)).toBe('Once: The quick fox sleeps.\n');
      await client.save('body:w1/story.md');
      const read = await call('GET', '/api/workspaces/w1/files/story.md', editor);
      expect(read.json.body).toBe('Once: The quick fox sleeps.\n');
      // JSON without frontmatter kept the metadata (the file still exists with its filename).
      expect(read.status).toBe(200);
    } finally {
      client.close();
    }
  }, 60_000);

  test('JSON PUT with frontmatter sets only the metadata that differs', async () => {
    const res = await call(
      'PUT',
      '/api/workspaces/w1/files/meta.md',
      editor,
      JSON.stringify({ body: 'x', frontmatter: { title: 'Meta', tags: ['a'] } }),
      { 'content-type': 'application/json' },
    );
    expect(res.status).toBe(201);
    const read = await call('GET', '/api/workspaces/w1/files/meta.md', editor);
    expect(read.json.frontmatter).toEqual(expect.objectContaining({ title: 'Meta', tags: ['a'] }));
    const body = await call(
      'PUT',
      '/api/workspaces/w1/files/meta.md',
      editor,
      JSON.stringify({ body: 'y', frontmatter: read.json.frontmatter }),
      { 'content-type': 'application/json' },
    );
    expect(body.json.updated_docs).toEqual(['body:w1/meta.md']);
  }, 30_000);

  test('DELETE tombstones the file; the client sees the deletion; GET is then 404', async () => {
    await putMarkdown('gone.md', editor, 'bye\n');
    const client = await Sync2TestClient.connect(cluster.ws(), editor);
    try {
      const wsDoc = await client.openSynced('workspace:w1');
      expect(new WorkspaceCrdt(wsDoc).listFiles().some((f) => f.path === 'gone.md')).toBe(true);
      const del = await call('DELETE', '/api/workspaces/w1/files/gone.md', editor);
      expect(del.status).toBe(204);
      expect((await call('GET', '/api/workspaces/w1/files/gone.md', editor)).status).toBe(404);
      await client.waitFor(
        () => new WorkspaceCrdt(wsDoc).getFile('gone.md')?.deleted === true,
        10_000,
        'the tombstone on the client',
      );
      expect((await call('DELETE', '/api/workspaces/w1/files/gone.md', editor)).status).toBe(404);
    } finally {
      client.close();
    }
  }, 60_000);

  test('POST /api/docs/{docId}/updates applies a raw Yjs update durably; garbage is 400', async () => {
    await putMarkdown('raw.md', editor, 'abc');
    const client = await Sync2TestClient.connect(cluster.ws(), editor);
    let update: Uint8Array;
    try {
      const body = await client.openSynced('body:w1/raw.md');
      const copy = new Y.Doc();
      Y.applyUpdate(copy, Y.encodeStateAsUpdate(body));
      const sv = Y.encodeStateVector(copy);
      copy.getText('body').insert(3, 'def');
      update = Y.encodeStateAsUpdate(copy, sv);
    } finally {
      client.close();
    }
    const docPath = `/api/docs/${encodeURIComponent('body:w1/raw.md')}/updates`;
    const res = await call('POST', docPath, editor, update, { 'content-type': 'application/octet-stream' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ doc: 'body:w1/raw.md', applied: true });
    expect((await call('GET', '/api/workspaces/w1/files/raw.md', editor)).json.body).toBe('abcdef');
    const bad = await call('POST', docPath, editor, new Uint8Array([1, 2, 3, 250, 250]), {
      'content-type': 'application/octet-stream',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_request');
    const viewerRes = await call('POST', docPath, viewer, update, {
      'content-type': 'application/octet-stream',
    });
    expect(viewerRes.status).toBe(403);
  }, 60_000);

  test('roles and tenancy: a viewer reads but cannot write; another tenant sees nothing', async () => {
    await putMarkdown('private.md', editor, 'secret\n');
    expect((await call('GET', '/api/workspaces/w1/files/private.md', viewer)).status).toBe(200);
    expect((await putMarkdown('private.md', viewer, 'changed')).status).toBe(403);
    expect((await call('DELETE', '/api/workspaces/w1/files/private.md', viewer)).status).toBe(403);
    // The other tenant has a workspace with the same id: its token never reaches this tenant's files.
    const otherEditor = await cluster.token({ tid: other.id, ws: ['w1'], role: 'editor' });
    expect((await call('GET', '/api/workspaces/w1/files/private.md', otherEditor)).status).toBe(404);
    expect((await call('DELETE', '/api/workspaces/w1/files/private.md', otherEditor)).status).toBe(404);
    const raw = await call(
      'POST',
      `/api/docs/${encodeURIComponent('body:w1/private.md')}/updates`,
      otherEditor,
      new Uint8Array([0, 0]),
      { 'content-type': 'application/octet-stream' },
    );
    expect(raw.status).toBe(200); // an empty update in the OTHER tenant's own workspace
    expect((await call('GET', '/api/workspaces/w1/files/private.md', editor)).json.body).toBe('secret\n');
    expect((await call('GET', '/api/workspaces/w1/files/private.md', '')).status).toBe(401);
    expect((await putMarkdown('../x.md', editor, 'x')).status).toBeGreaterThanOrEqual(400);
    expect((await putMarkdown('CON.md', editor, 'x')).json.error.code).toBe('unsafe_path');
  }, 60_000);
});
