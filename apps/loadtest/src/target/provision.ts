/**
 * Creating what a run needs through the gateway's HTTP API (docs/protocol.md#http-api, see the gateway
 * README): a tenant (cluster `ADMIN_TOKEN`), a workspace and an editor token.
 */

export interface Provisioned {
  tenantId: string;
  workspace: string;
  token: string;
}

/** `ws://host:port` → `http://host:port` (`wss` → `https`). */
export function httpBaseOf(wsBase: string): string {
  return wsBase.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/+$/, '');
}

async function call<T>(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15000),
  });
  const json = (await res.json().catch(() => null)) as T;
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Creates tenant `loadtest`, workspace `workspace` and an editor token valid for `ttlSeconds`. */
export async function provisionWithAdminToken(
  httpBase: string,
  adminToken: string,
  workspace: string,
  ttlSeconds = 24 * 3600,
): Promise<Provisioned> {
  const tenant = await call<{ id: string; admin_token: string }>(
    httpBase,
    adminToken,
    'POST',
    '/api/tenants',
    {
      name: 'loadtest',
    },
  );
  await call(httpBase, tenant.admin_token, 'POST', '/api/workspaces', {
    id: workspace,
    name: `Load test ${workspace}`,
  });
  const { token } = await call<{ token: string }>(httpBase, tenant.admin_token, 'POST', '/api/tokens', {
    sub: 'loadtest',
    ws: [workspace],
    role: 'editor',
    ttl_s: ttlSeconds,
  });
  return { tenantId: tenant.id, workspace, token };
}
