/**
 * Bull Board at /ops/queues: admin token required, read-only unless OPS_QUEUES_WRITE=true (UI in
 * read-only mode, every non-GET refused with 403), and the page loads nothing from another origin.
 */
import { ADMIN_TOKEN, type GatewayHarness, dropSchema, startGateway } from './api-harness';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe.each([
  ['default (read-only)', {}, false],
  ['OPS_QUEUES_WRITE=true', { OPS_QUEUES_WRITE: 'true' }, true],
] as const)('%s', (_name, env, writable) => {
  let gw: GatewayHarness;
  beforeAll(async () => {
    gw = await startGateway({ ...env });
  });
  afterAll(async () => {
    await gw?.close();
    if (gw) await dropSchema(gw.schema);
  });

  it('needs the admin token', async () => {
    expect((await fetch(`${gw.baseUrl}/ops/queues`)).status).toBe(401);
  });

  it('serves the board without any external font or stylesheet, under a same-origin CSP', async () => {
    const res = await fetch(`${gw.baseUrl}/ops/queues`, { headers: auth });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('__UI_CONFIG__');
    expect(html).not.toMatch(/fonts\.googleapis|fonts\.gstatic/);
    expect(html).not.toMatch(/(href|src)="https?:\/\//);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'.*font-src 'self'/);
  });

  it(`queue changes are ${writable ? 'allowed' : 'refused with 403 read_only'}; the API reports readOnlyMode=${!writable}`, async () => {
    const list = await fetch(`${gw.baseUrl}/ops/queues/api/queues?activeQueue=compaction&status=failed`, {
      headers: auth,
    });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.length).toBeGreaterThan(0);
    for (const q of body.queues) expect([q.name, q.readOnlyMode]).toEqual([q.name, !writable]);
    for (const [method, path] of [
      ['PUT', '/ops/queues/api/queues/compaction/retry/failed'],
      ['PUT', '/ops/queues/api/queues/compaction/clean/completed'],
    ]) {
      const res = await fetch(`${gw.baseUrl}${path}`, { method, headers: auth });
      if (writable) expect([path, res.status]).not.toEqual([path, 403]);
      else {
        expect([path, res.status]).toEqual([path, 403]);
        expect(await res.json()).toMatchObject({ error: { code: 'read_only' } });
      }
    }
  });
});
