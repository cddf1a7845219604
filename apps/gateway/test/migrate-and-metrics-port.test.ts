/**
 * Deployment behaviour of the gateway process: `/metrics` only on METRICS_PORT when one is set,
 * and the upgrade path (deploy/README.md "Upgrade"): with MIGRATE_ON_START=false a service refuses
 * to start on an unmigrated schema; the one-shot `migrate` command (dist/migrate.js) applies every
 * service's migrations, `--check` reports pending ones (exit 3) without changing anything.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Pool } from 'pg';
import {
  DATABASE_URL,
  type GatewayHarness,
  dropSchema,
  startGateway,
  urlWithSearchPath,
} from './api-harness';
import { freePort } from './helpers/cluster';

const MIGRATE = path.resolve(__dirname, '../dist/migrate.js');

// Spawns the built migrate command four times on a shared 2-core machine.
jest.setTimeout(60_000);

function runMigrate(databaseUrl: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MIGRATE, ...args], {
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('METRICS_PORT', () => {
  let gw: GatewayHarness;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    gw = await startGateway({ METRICS_PORT: String(port) });
  });
  afterAll(async () => {
    await gw?.close();
    if (gw) await dropSchema(gw.schema);
  });

  it('serves /metrics only on its own port; the public port answers 404', async () => {
    const onMain = await fetch(`${gw.baseUrl}/metrics`);
    expect(onMain.status).toBe(404);
    expect(await onMain.text()).not.toContain('diaryx_');
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('# TYPE diaryx_gateway_connections gauge');
    expect(text).not.toContain('diaryx_shards_owned'); // the gateway's own part of the catalogue only
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(404); // metrics only
  });
});

describe('migrations outside the services', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const url = urlWithSearchPath(DATABASE_URL, schema);
  beforeAll(async () => {
    const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
  });
  afterAll(async () => {
    await dropSchema(schema);
  });

  it('MIGRATE_ON_START=false refuses an unmigrated schema; `migrate` applies it; then the gateway starts', async () => {
    await expect(startGateway({ MIGRATE_ON_START: 'false' }, { schema, prefix })).rejects.toThrow(
      /schema is not migrated \(pending: .*_migrations #1.*run the migrate command/,
    );
    const pool = new Pool({ connectionString: url, max: 1 });
    try {
      // Nothing was created by the refused start.
      const tables = await pool.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1`, [
        schema,
      ]);
      expect(tables.rows[0].n).toBe(0);
      const before = await runMigrate(url, ['--check']);
      expect(before.code).toBe(3);
      const applied = await runMigrate(url, []);
      expect([applied.code, applied.output]).toEqual([0, expect.stringContaining('schema is current')]);
      for (const table of ['crdt_migrations', 'gateway_migrations', 'history_migrations']) {
        const r = await pool.query(`SELECT count(*)::int AS n FROM ${table}`);
        expect([table, r.rows[0].n > 0]).toEqual([table, true]);
      }
      expect((await runMigrate(url, ['--check'])).code).toBe(0);
      expect((await runMigrate(url, ['--wait', '--timeout-s', '5'])).code).toBe(0);
    } finally {
      await pool.end();
    }
    const gw = await startGateway({ MIGRATE_ON_START: 'false' }, { schema, prefix });
    try {
      expect((await fetch(`${gw.baseUrl}/healthz`)).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});
