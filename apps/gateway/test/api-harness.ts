/**
 * Test harness for the gateway HTTP API: boots the real Nest app in-process on port 0 against
 * real PostgreSQL (an isolated schema per harness) and Redis (a random prefix).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SignJWT } from 'jose';
import { Pool } from 'pg';
import { type GatewayConfig, loadGatewayConfig } from '../src/config/gateway-config';
import { createGatewayApp } from '../src/gateway-app';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef';
export const ADMIN_TOKEN = 'test-cluster-admin-token';

/** A database URL whose connections use `schema` as search_path. */
export function urlWithSearchPath(url: string, schema: string): string {
  const sep = url.includes('?') ? '&' : '?';
  return `${url}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/** A running gateway plus handles to clean it up. */
export interface GatewayHarness {
  app: NestExpressApplication;
  config: GatewayConfig;
  baseUrl: string;
  schema: string;
  prefix: string;
  /** Pool on the harness schema, for direct assertions. */
  pool: Pool;
  close(): Promise<void>;
}

/** Creates a fresh schema and starts a gateway on 127.0.0.1:0. */
export async function startGateway(
  env: Record<string, string> = {},
  existing?: { schema: string; prefix: string },
): Promise<GatewayHarness> {
  const schema = existing?.schema ?? `t_${randomBytes(6).toString('hex')}`;
  const prefix = existing?.prefix ?? `t${randomBytes(4).toString('hex')}`;
  const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await admin.end();
  const databaseUrl = urlWithSearchPath(DATABASE_URL, schema);
  const config = loadGatewayConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET,
    ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const app = await createGatewayApp(config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    schema,
    prefix,
    pool,
    async close() {
      await app.close();
      await pool.end();
    },
  };
}

/** Drops a harness schema (call once in afterAll, after every gateway on it is closed). */
export async function dropSchema(schema: string): Promise<void> {
  const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}

/** Result of {@link api}: status, parsed JSON body (or undefined), headers. */
export interface ApiResult {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience
  headers: Headers;
}

/** Sends a JSON request; `token` becomes a Bearer header. */
export async function api(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    headers['content-type'] ??= 'application/json';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Signs a token directly with the test secret (for expiry / forged-claim tests). */
export async function signToken(
  claims: Record<string, unknown>,
  options: { expSeconds?: number; secret?: string; alg?: 'HS256' | 'HS512' } = {},
): Promise<string> {
  const exp = options.expSeconds ?? Math.floor(Date.now() / 1000) + 3600;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}
