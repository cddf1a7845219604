/**
 * Generic HTTP conventions of the gateway (docs/protocol.md#http-conventions) against the real app,
 * PostgreSQL and Redis: the OpenAPI document (valid 3.1, lists every registered route), Swagger UI
 * from local assets, CORS, 405 with `Allow`, 413, 415, and one documented error-code list.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { HTTP_ERROR_CODES } from '@diaryx-sync/protocol';
import { ADMIN_TOKEN, type GatewayHarness, api, dropSchema, startGateway } from './api-harness';

const ALLOWED = 'https://app.example.com';

let gw: GatewayHarness;
let admin: string;

beforeAll(async () => {
  gw = await startGateway({ CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` });
  const tenant = await api(gw.baseUrl, 'POST', '/api/tenants', {
    token: ADMIN_TOKEN,
    body: { name: 'conv' },
  });
  admin = tenant.body.admin_token;
}, 30_000);

afterAll(async () => {
  await gw?.close();
  if (gw) await dropSchema(gw.schema);
});

/** Express routes of the running app as `METHOD /openapi/{path}` strings. */
function registeredRoutes(): string[] {
  const stack = (
    gw.app.getHttpAdapter().getInstance() as {
      router: { stack: { route?: { path: string; _methods(all?: boolean): string[] } }[] };
    }
  ).router.stack;
  const routes: string[] = [];
  for (const layer of stack) {
    if (!layer.route) continue;
    const path = layer.route.path.replace(/[:*]([A-Za-z0-9_]+)/g, '{$1}');
    for (const method of layer.route._methods(false)) {
      if (method === 'HEAD' && layer.route._methods(false).includes('GET')) continue;
      routes.push(`${method} ${path}`);
    }
  }
  return routes;
}

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document listing every route the app registers', async () => {
    const res = await fetch(`${gw.baseUrl}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(doc) as never);
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    const routes = registeredRoutes();
    expect(routes.length).toBeGreaterThan(20);
    // Swagger UI's own pages are not API routes.
    const missing = routes.filter(
      (r) => !documented.has(r) && !r.includes('/api/docs') && r !== 'GET /api/openapi.json',
    );
    expect(missing).toEqual([]);
  });

  it('documents request and response schemas of the JSON routes', async () => {
    const doc = (await (await fetch(`${gw.baseUrl}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    };
    const create = doc.paths['/api/workspaces'].post;
    expect(JSON.stringify(create.requestBody)).toContain('"id"');
    expect(JSON.stringify(create.responses['201'])).toContain('created_at');
    expect(JSON.stringify(create.responses['409'])).toContain('workspace_exists');
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const statuses = Object.keys(op.responses ?? {});
        expect({ route: `${method} ${path}`, ok: statuses.some((s) => /^[23]/.test(s)) }).toEqual({
          route: `${method} ${path}`,
          ok: true,
        });
      }
    }
  });

  it('serves Swagger UI with local assets only', async () => {
    const page = await fetch(`${gw.baseUrl}/api/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(srcs.length).toBeGreaterThan(0);
    for (const src of srcs) {
      expect(src).not.toMatch(/^(https?:)?\/\//);
      const asset = await fetch(new URL(src, `${gw.baseUrl}/api/docs/`));
      expect({ src, status: asset.status }).toEqual({ src, status: 200 });
    }
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin with 204 and the CORS headers', async () => {
    const res = await fetch(`${gw.baseUrl}/api/workspaces`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const get = await fetch(`${gw.baseUrl}/api/workspaces`, {
      headers: { origin: ALLOWED, authorization: `Bearer ${admin}` },
    });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('sends no CORS header to another origin', async () => {
    const res = await fetch(`${gw.baseUrl}/api/workspaces`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-methods')).toBeNull();
    const get = await fetch(`${gw.baseUrl}/api/workspaces`, {
      headers: { origin: 'https://evil.example', authorization: `Bearer ${admin}` },
    });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends none at all without CORS_ORIGINS', async () => {
    const plain = await startGateway({}, { schema: gw.schema, prefix: gw.prefix });
    try {
      const res = await fetch(`${plain.baseUrl}/api/workspaces`, {
        method: 'OPTIONS',
        headers: { origin: ALLOWED, 'access-control-request-method': 'GET' },
      });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.status).not.toBe(204);
    } finally {
      await plain.close();
    }
  });
});

describe('method, size and media type', () => {
  it('answers 405 with Allow for a wrong method on a known path, 404 for an unknown path', async () => {
    const res = await api(gw.baseUrl, 'PUT', '/api/workspaces', { token: admin, body: {} });
    expect(res.status).toBe(405);
    expect(res.body.error.code).toBe('method_not_allowed');
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
    const one = await api(gw.baseUrl, 'POST', '/api/workspaces/ws1', { token: admin, body: {} });
    expect(one.status).toBe(405);
    expect(one.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH');
    const unknown = await api(gw.baseUrl, 'GET', '/api/nothing-here', { token: admin });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });

  it('answers 415 for a body with a Content-Type the route does not accept', async () => {
    const res = await api(gw.baseUrl, 'POST', '/api/workspaces', {
      token: admin,
      rawBody: 'id=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    const ok = await api(gw.baseUrl, 'POST', '/api/workspaces', { token: admin, body: { id: 'media' } });
    expect(ok.status).toBe(201);
  });

  it('answers 413 for an oversize JSON body and 400 invalid_request for malformed JSON', async () => {
    const big = await api(gw.baseUrl, 'POST', '/api/workspaces', {
      token: admin,
      rawBody: JSON.stringify({ name: 'x'.repeat(200 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const bad = await api(gw.baseUrl, 'POST', '/api/workspaces', { token: admin, rawBody: '{"id":' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
  });
});

describe('error codes', () => {
  it('documents every code of HttpErrorCode in docs/protocol.md and no route uses bad_request', () => {
    const protocol = readFileSync(join(__dirname, '../../../docs/protocol.md'), 'utf8');
    const table = protocol.slice(protocol.indexOf('### Error codes'));
    for (const code of HTTP_ERROR_CODES)
      expect({ code, documented: table.includes(`\`${code}\``) }).toEqual({ code, documented: true });
    expect(HTTP_ERROR_CODES).not.toContain('bad_request');
  });

  it('answers every error with a code of the list', async () => {
    const answers = await Promise.all([
      api(gw.baseUrl, 'GET', '/api/workspaces'),
      api(gw.baseUrl, 'GET', '/api/workspaces/nope', { token: admin }),
      api(gw.baseUrl, 'DELETE', '/api/tokens', { token: admin }),
      api(gw.baseUrl, 'POST', '/api/workspaces', { token: admin, body: { id: '!' } }),
    ]);
    for (const res of answers) expect(HTTP_ERROR_CODES).toContain(res.body.error.code);
  });
});
