/**
 * Hostile input to the HTTP API against the real gateway app (PostgreSQL, Redis): control and
 * bidi characters in user-supplied strings are a 400 (never a 500 from PostgreSQL), bodies are
 * bounded, and failed `/ops/login` attempts are throttled per source address.
 */
import { ADMIN_TOKEN, api, dropSchema, signToken, startGateway, type GatewayHarness } from './api-harness';

let gw: GatewayHarness;
let admin: string;

beforeAll(async () => {
  // One trusted proxy hop, so that tests can speak from several client addresses.
  gw = await startGateway({ TRUST_PROXY_HOPS: '1' });
  const t = await api(gw.baseUrl, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: { name: 'Input' } });
  admin = t.body.admin_token;
});

afterAll(async () => {
  await gw?.close();
  if (gw) await dropSchema(gw.schema);
});

const UNSAFE = [
  ['NUL', 'a\u0000b'],
  ['escape', 'a\u001b[31mb'],
  ['DEL', 'a\u007fb'],
  ['C1', 'a\u0085b'],
  ['bidi override', 'a\u202eb'],
  ['lone surrogate', 'a\ud800b'],
] as const;

describe('user-supplied strings', () => {
  it.each(UNSAFE)(
    'a workspace name with %s is 400 invalid_request (create and rename)',
    async (_what, name) => {
      const created = await api(gw.baseUrl, 'POST', '/api/workspaces', { token: admin, body: { name } });
      expect({ status: created.status, code: created.body.error?.code }).toEqual({
        status: 400,
        code: 'invalid_request',
      });
      expect(
        (await api(gw.baseUrl, 'POST', '/api/workspaces', { token: admin, body: { id: 'fine' } })).status,
      ).toBeLessThan(500);
      const renamed = await api(gw.baseUrl, 'PATCH', '/api/workspaces/fine', {
        token: admin,
        body: { name },
      });
      expect({ status: renamed.status, code: renamed.body.error?.code }).toEqual({
        status: 400,
        code: 'invalid_request',
      });
    },
  );

  it.each(UNSAFE)('a tenant name or token subject with %s is 400 invalid_request', async (_what, text) => {
    const tenant = await api(gw.baseUrl, 'POST', '/api/tenants', {
      token: ADMIN_TOKEN,
      body: { name: text },
    });
    expect({ status: tenant.status, code: tenant.body.error?.code }).toEqual({
      status: 400,
      code: 'invalid_request',
    });
    const token = await api(gw.baseUrl, 'POST', '/api/tokens', {
      token: admin,
      body: { sub: text, ws: ['*'], role: 'editor' },
    });
    expect({ status: token.status, code: token.body.error?.code }).toEqual({
      status: 400,
      code: 'invalid_request',
    });
  });

  it('a workspace id, doc id or commit id with a NUL is a 4xx, never a 500', async () => {
    const responses = await Promise.all([
      api(gw.baseUrl, 'GET', `/api/workspaces/${encodeURIComponent('a\u0000b')}`, { token: admin }),
      api(gw.baseUrl, 'POST', '/api/workspaces', { token: admin, body: { id: 'a\u0000b' } }),
      api(
        gw.baseUrl,
        'GET',
        `/api/workspaces/fine/versions?doc=${encodeURIComponent('body:fine/a\u0000.md')}`,
        {
          token: admin,
        },
      ),
      api(gw.baseUrl, 'POST', '/api/workspaces/fine/restore', {
        token: admin,
        body: { commit_id: '\u0000' },
      }),
      api(gw.baseUrl, 'POST', '/api/tokens', {
        token: admin,
        body: { sub: 'x', ws: ['a\u0000'], role: 'viewer' },
      }),
    ]);
    for (const r of responses) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
  });

  it('a token whose subject holds a control character is not accepted (401)', async () => {
    const forged = await signToken({ sub: 'x\u0000y', tid: 'whatever', ws: ['*'], role: 'admin' });
    expect((await api(gw.baseUrl, 'GET', '/api/workspaces', { token: forged })).status).toBe(401);
  });

  it('JSON bodies over 128 KiB are refused with 413 payload_too_large', async () => {
    const res = await api(gw.baseUrl, 'POST', '/api/workspaces', {
      token: admin,
      rawBody: JSON.stringify({ name: 'x'.repeat(200 * 1024) }),
    });
    expect({ status: res.status, code: res.body.error?.code }).toEqual({
      status: 413,
      code: 'payload_too_large',
    });
  });
});

describe('/ops/login throttling', () => {
  const login = (token: string, from: string) =>
    fetch(`${gw.baseUrl}/ops/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
      body: new URLSearchParams({ token }).toString(),
    });

  async function metric(outcome: string): Promise<number> {
    const text = await (await fetch(`${gw.baseUrl}/metrics`)).text();
    const m = new RegExp(
      `^diaryx_gateway_admin_logins_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`,
      'm',
    ).exec(text);
    return m ? Number(m[1]) : 0;
  }

  it('allows 5 failed guesses per address, then answers 429 with Retry-After, even for the right token', async () => {
    const attacker = '203.0.113.7';
    const statuses: number[] = [];
    const started = performance.now();
    for (let i = 0; i < 200; i++) statuses.push((await login(`guess-${i}`, attacker)).status);
    const seconds = (performance.now() - started) / 1000;
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    process.stdout.write(
      `/ops/login: 200 guesses in ${seconds.toFixed(2)} s, ${statuses.filter((s) => s === 401).length} checked\n`,
    );

    const locked = await login(ADMIN_TOKEN, attacker);
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(locked.headers.get('set-cookie')).toBeNull();

    // Another address is not affected, and its success is counted.
    const other = await login(ADMIN_TOKEN, '198.51.100.9');
    expect(other.status).toBe(303);
    expect(other.headers.get('set-cookie')).toContain('dx_ops=');

    expect(await metric('failed')).toBe(5);
    expect(await metric('throttled')).toBe(196);
    expect(await metric('succeeded')).toBe(1);
  });
});
