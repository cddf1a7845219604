/**
 * Loads `docker-compose.yml` the way Docker Compose does before validating it: YAML with merge
 * keys (`<<: *anchor`), then variable interpolation (`${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `$VAR`, `$$` escapes) against a given environment.
 */
import * as fs from 'node:fs';
import { parse } from 'yaml';

/** The parts of a compose service the cross-checks read. */
export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string } | string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target: number; published?: string | number })[];
  volumes?: (string | { type: string; source?: string; target: string })[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string; disable?: boolean };
  hostname?: string;
  [field: string]: unknown;
}

/** A loaded compose file. */
export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [field: string]: unknown;
}

/** Interpolates one string; throws on `${VAR:?msg}` with VAR unset, or a malformed expression. */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch !== '$') {
      out += ch;
      continue;
    }
    const next = value[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '{') {
      const end = value.indexOf('}', i);
      if (end < 0) throw new Error(`unterminated \${ in ${JSON.stringify(value)}`);
      const expr = value.slice(i + 2, end);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$/s.exec(expr);
      if (!m) throw new Error(`invalid interpolation \${${expr}}`);
      const [, name, op, arg = ''] = m;
      const v = env[name];
      const unsetOrEmpty = v === undefined || v === '';
      if (!op) out += v ?? '';
      else if (op === ':-') out += unsetOrEmpty ? interpolate(arg, env) : v;
      else if (op === '-') out += v === undefined ? interpolate(arg, env) : v;
      else if (op === ':?' || op === '?') {
        if (op === ':?' ? unsetOrEmpty : v === undefined)
          throw new Error(`required variable ${name}: ${arg}`);
        out += v;
      } else if (op === ':+') out += unsetOrEmpty ? '' : interpolate(arg, env);
      else out += v === undefined ? '' : interpolate(arg, env);
      i = end;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(value.slice(i + 1));
      if (!m) {
        out += '$';
        continue;
      }
      out += env[m[0]] ?? '';
      i += m[0].length;
    }
  }
  return out;
}

function interpolateTree(node: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof node === 'string') return interpolate(node, env);
  if (Array.isArray(node)) return node.map((n) => interpolateTree(n, env));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, env)]));
  }
  return node;
}

/** Parses (merge keys on) and interpolates a compose file. */
export function loadCompose(file: string, env: Record<string, string | undefined> = {}): ComposeFile {
  const raw = parse(fs.readFileSync(file, 'utf8'), { merge: true }) as unknown;
  return interpolateTree(raw, env) as ComposeFile;
}

/** A service's environment as a map (list form `KEY=value` supported). */
export function serviceEnv(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((line) => {
        const i = line.indexOf('=');
        return i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** `command` as an argument list (the string form split on spaces). */
export function commandArgs(service: ComposeService): string[] {
  const c = service.command;
  if (c === undefined) return [];
  return Array.isArray(c) ? c : c.split(/\s+/).filter(Boolean);
}
