/**
 * What the deployment files must agree with: the service apps, their ports (docs/architecture.md#heartbeats-and-ports)
 * and the environment variables their code reads (found by scanning the sources of the app and of
 * every workspace library it depends on).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Repository root. */
export const ROOT = path.resolve(__dirname, '../../..');

/** The services deployed by compose and Kubernetes, with their contract ports. */
export const SERVICE_APPS = {
  gateway: { port: 8080 },
  'doc-service': { port: 8081 },
  'history-worker': { port: 8090 },
} as const;

export type ServiceApp = keyof typeof SERVICE_APPS;

/** An environment variable read by the code. */
export interface EnvRead {
  name: string;
  /** True when the code supplies a default (zod `.default()`, `??`, `||`, …) or treats it as optional. */
  defaulted: boolean;
  /** Where it is read (repo-relative file). */
  file: string;
}

function listTs(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listTs(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.spec.ts')) out.push(p);
  }
  return out;
}

/** Package folders (`libs/x`, `apps/y`) an app depends on, transitively, itself included. */
export function packageClosure(app: string): string[] {
  const byName = new Map<string, string>();
  for (const group of ['libs', 'apps']) {
    for (const name of fs.existsSync(path.join(ROOT, group)) ? fs.readdirSync(path.join(ROOT, group)) : []) {
      const pj = path.join(ROOT, group, name, 'package.json');
      if (fs.existsSync(pj))
        byName.set((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name: string }).name, `${group}/${name}`);
    }
  }
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const pj = JSON.parse(fs.readFileSync(path.join(ROOT, dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pj.dependencies ?? {})) {
      const d = byName.get(dep);
      if (d) visit(d);
    }
    // Imports of workspace packages not declared in package.json still count.
    for (const file of listTs(path.join(ROOT, dir, 'src'))) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/from '(@diaryx-sync\/[a-z0-9-]+)'/g)) {
        const d = byName.get(m[1]);
        if (d) visit(d);
      }
    }
  };
  visit(`apps/${app}`);
  return [...seen].sort();
}

/** Names of local helpers defined with a default, e.g. `const positiveInt = (d) => z…default(d)`. */
function defaultingHelpers(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/const\s+(\w+)\s*=\s*\([^)]*\)\s*=>[^;]*?\.(default|optional)\(/gs))
    out.add(m[1]);
  return out;
}

/** Environment variables read by one source text. */
export function scanEnvReads(text: string, file: string): EnvRead[] {
  const out: EnvRead[] = [];
  // 1. Direct reads: process.env.NAME / process.env['NAME'].
  for (const m of text.matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g)) {
    const name = m[1] ?? m[2];
    const before = text.slice(Math.max(0, (m.index ?? 0) - 12), m.index);
    const after = text.slice((m.index ?? 0) + m[0].length, (m.index ?? 0) + m[0].length + 6);
    const defaulted = /^\s*(\?\?|\|\||\?|[!=]==?)/.test(after) || /(if\s*\(|!|Boolean\()\s*$/.test(before);
    out.push({ name, defaulted, file });
  }
  // 2. zod schemas of environment settings: UPPER_CASE keys of z.object({...}) / .extend({...}).
  if (/z\.object\(|\.extend\(/.test(text) && /parseEnv|process\.env|safeParse\(env|\.parse\(env/.test(text)) {
    const helpers = defaultingHelpers(text);
    const keyRe = /^(\s*)([A-Z][A-Z0-9_]{1,}):\s*/gm;
    const keys = [...text.matchAll(keyRe)];
    keys.forEach((m, i) => {
      const start = (m.index ?? 0) + m[0].length;
      const end = i + 1 < keys.length ? (keys[i + 1].index ?? text.length) : text.length;
      const expr = text.slice(start, end).split(/\n\s*\}\)/)[0];
      const call = /^(\w+)\(/.exec(expr);
      const defaulted = /\.(default|optional|catch)\(/.test(expr) || (call !== null && helpers.has(call[1]));
      out.push({ name: m[2], defaulted, file });
    });
  }
  return out;
}

/** Every environment variable the app (with its libraries) reads, merged per name. */
export function envReadsOf(app: string): Map<string, EnvRead> {
  const reads = new Map<string, EnvRead>();
  for (const pkg of packageClosure(app)) {
    for (const file of listTs(path.join(ROOT, pkg, 'src'))) {
      for (const r of scanEnvReads(fs.readFileSync(file, 'utf8'), path.relative(ROOT, file))) {
        const prev = reads.get(r.name);
        // Defaulted only when every read supplies a default.
        reads.set(r.name, prev ? { ...prev, defaulted: prev.defaulted && r.defaulted } : r);
      }
    }
  }
  return reads;
}

/** True when the app's code serves `route` (directly, or through `startOpsServer` of libs/runtime). */
export function appServesRoute(app: string, route: '/healthz' | '/readyz' | '/metrics'): boolean {
  const files = listTs(path.join(ROOT, 'apps', app, 'src'));
  const name = route.slice(1);
  return files.some((f) => {
    const text = fs.readFileSync(f, 'utf8');
    return text.includes('startOpsServer') || new RegExp(`['"\`/]${name}['"\`]`).test(text);
  });
}

/** Exported `load…Config` / `load…Settings` functions of the app's config modules. */
export function configLoaderFiles(app: string): string[] {
  return listTs(path.join(ROOT, 'apps', app, 'src')).filter((f) => {
    if (!/config|settings/i.test(path.basename(f))) return false;
    return /export function load\w*(Config|Settings)\s*\(/.test(fs.readFileSync(f, 'utf8'));
  });
}

/** The app's own default for `PORT` (e.g. `PORT: int(8090)` in its config schema), if it sets one. */
export function appDefaultPort(app: string): number | undefined {
  for (const f of listTs(path.join(ROOT, 'apps', app, 'src'))) {
    const m = /\bPORT:\s*[\w.]+\((\d{2,5})\)/.exec(fs.readFileSync(f, 'utf8'));
    if (m) return Number(m[1]);
  }
  return undefined;
}
