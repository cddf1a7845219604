/**
 * `AuthService` and `WorkspaceStore.exists` as the WebSocket side uses them (no HTTP):
 * typed errors for invalid/expired tokens, workspace coverage, cached existence per tenant.
 */
import { AuthService, InvalidTokenError, type TokenClaims } from '../src/auth';
import type { Pool } from 'pg';
import { PG_POOL } from '../src/infra/infra.tokens';
import { WorkspaceStore } from '../src/tenancy';
import { loadGatewayConfig } from '../src/config/gateway-config';
import { type GatewayHarness, JWT_SECRET, dropSchema, signToken, startGateway } from './api-harness';

let gw: GatewayHarness;
let auth: AuthService;
let store: WorkspaceStore;

beforeAll(async () => {
  gw = await startGateway({ WORKSPACE_CACHE_MS: '300' });
  auth = gw.app.get(AuthService);
  store = gw.app.get(WorkspaceStore);
});

afterAll(async () => {
  await gw?.close();
  if (gw) await dropSchema(gw.schema);
});

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidTokenError);
    return (err as InvalidTokenError).reason;
  }
}

describe('AuthService', () => {
  it('issues tokens that verify to the same claims', async () => {
    const { token, jti, expiresAt } = await auth.issue(
      { sub: 'u1', tid: 't1', ws: ['a', 'b'], role: 'viewer' },
      120,
    );
    const claims = await auth.verify(token);
    expect(claims).toEqual({
      sub: 'u1',
      tid: 't1',
      ws: ['a', 'b'],
      role: 'viewer',
      exp: expiresAt.getTime() / 1000,
      jti,
    });
  });

  it('a token verified before still expires, and a token that failed is never remembered', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signToken({ sub: 's', tid: 't', ws: ['*'], role: 'editor' }, { expSeconds: now + 1 });
    const first = await auth.verify(token);
    expect(await auth.verify(token)).toBe(first); // remembered: the same frozen claims
    expect(Object.isFrozen(first)).toBe(true);
    await new Promise((r) => setTimeout(r, (now + 1) * 1000 - Date.now() + 50));
    expect(await reasonOf(auth.verify(token))).toBe('expired');
    const forged = await signToken(
      { sub: 's', tid: 't', ws: ['*'], role: 'editor' },
      { secret: 'y'.repeat(32) },
    );
    expect(await reasonOf(auth.verify(forged))).toBe('invalid');
    expect(await reasonOf(auth.verify(forged))).toBe('invalid');
  });

  it('verifies tokens signed elsewhere with JWT_SECRET', async () => {
    const token = await signToken({ sub: 's', tid: 't', ws: ['*'], role: 'editor' });
    expect((await auth.verify(token)).role).toBe('editor');
    expect(JWT_SECRET).toBe(gw.config.JWT_SECRET);
  });

  it('rejects with InvalidTokenError: expired vs invalid', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(
      await reasonOf(
        auth.verify(
          await signToken({ sub: 's', tid: 't', ws: ['*'], role: 'editor' }, { expSeconds: now - 1 }),
        ),
      ),
    ).toBe('expired');
    expect(await reasonOf(auth.verify(''))).toBe('invalid');
    expect(await reasonOf(auth.verify('a.b.c'))).toBe('invalid');
    expect(
      await reasonOf(
        auth.verify(
          await signToken({ sub: 's', tid: 't', ws: ['*'], role: 'editor' }, { secret: 'x'.repeat(32) }),
        ),
      ),
    ).toBe('invalid');
    // claim shapes: missing tid, ws not an array, unknown role, empty sub
    for (const claims of [
      { sub: 's', ws: ['*'], role: 'editor' },
      { sub: 's', tid: 't', ws: '*', role: 'editor' },
      { sub: 's', tid: 't', ws: ['*'], role: 'owner' },
      { sub: '', tid: 't', ws: ['*'], role: 'editor' },
    ]) {
      expect(await reasonOf(auth.verify(await signToken(claims)))).toBe('invalid');
    }
  });

  it('canAccessWorkspace: "*" covers all, otherwise only listed ids', () => {
    const base: TokenClaims = { sub: 's', tid: 't', ws: ['a'], role: 'viewer', exp: 0 };
    expect(auth.canAccessWorkspace(base, 'a')).toBe(true);
    expect(auth.canAccessWorkspace(base, 'b')).toBe(false);
    expect(auth.canAccessWorkspace({ ...base, ws: ['*'] }, 'anything')).toBe(true);
    expect(auth.canAccessWorkspace({ ...base, ws: [] }, 'a')).toBe(false);
    expect(auth.canWrite(base)).toBe(false);
    expect(auth.canWrite({ ...base, role: 'editor' })).toBe(true);
    expect(auth.isAdmin({ ...base, role: 'editor' })).toBe(false);
  });
});

describe('AuthService key rotation (JWT_PREVIOUS_SECRET)', () => {
  const claims = { sub: 's', tid: 't', ws: ['*'], role: 'editor' };

  it('accepts tokens of the previous secret, signs new ones with the current one', async () => {
    const rotated = new AuthService(
      loadGatewayConfig({ JWT_SECRET: 'new-secret', JWT_PREVIOUS_SECRET: 'old-secret' }),
    );
    const withoutPrevious = new AuthService(loadGatewayConfig({ JWT_SECRET: 'new-secret' }));
    const oldToken = await signToken(claims, { secret: 'old-secret' });
    expect((await rotated.verify(oldToken)).sub).toBe('s');
    expect(await reasonOf(withoutPrevious.verify(oldToken))).toBe('invalid');
    expect(await reasonOf(rotated.verify(await signToken(claims, { secret: 'other' })))).toBe('invalid');
    const expiredOld = await signToken(claims, {
      secret: 'old-secret',
      expSeconds: Math.floor(Date.now() / 1000) - 1,
    });
    expect(await reasonOf(rotated.verify(expiredOld))).toBe('expired');
    const { token } = await rotated.issue({ sub: 'n', tid: 't', ws: ['*'], role: 'viewer' }, 60);
    expect((await withoutPrevious.verify(token)).sub).toBe('n');
  });
});

describe('WorkspaceStore.exists', () => {
  it('is per tenant, sees this instance’s create/delete at once and others’ after the cache TTL', async () => {
    expect(await store.exists('ta', 'w')).toBe(false);
    await store.create('ta', { id: 'w', name: 'W' });
    expect(await store.exists('ta', 'w')).toBe(true);
    expect(await store.exists('tb', 'w')).toBe(false);

    // a write behind the store's back (another gateway) shows after the TTL
    await gw.pool.query("INSERT INTO workspaces (tenant_id, id, name) VALUES ('tb', 'w', 'other')");
    expect(await store.exists('tb', 'w')).toBe(false);
    await new Promise((r) => setTimeout(r, 350));
    expect(await store.exists('tb', 'w')).toBe(true);

    expect(await store.delete('ta', 'w')).toBe(true);
    expect(await store.exists('ta', 'w')).toBe(false);
    expect(await store.exists('tb', 'w')).toBe(true);
  });

  it('concurrent misses share one query; a lookup overtaken by this instance’s create does not fill the cache', async () => {
    const pool = gw.app.get<Pool>(PG_POOL);
    const query = jest.spyOn(pool, 'query');
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => store.exists('tc', 'storm')));
      expect(answers.every((a) => a === false)).toBe(true);
      expect(query).toHaveBeenCalledTimes(1);

      // a lookup in flight while the workspace is created answers for its own callers only
      const inFlight = store.exists('tc', 'late');
      await store.create('tc', { id: 'late' });
      await inFlight;
      expect(await store.exists('tc', 'late')).toBe(true);
    } finally {
      query.mockRestore();
    }
  });
});
