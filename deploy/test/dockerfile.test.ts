/**
 * Dockerfile + .dockerignore + entrypoint: the image is built the way issue 6 asks (multi-stage
 * on a pinned Node.js LTS slim image, production dependencies only, non-root, tini, HEALTHCHECK) and every path it copies
 * or runs exists and is inside the build context. The entrypoint and health check scripts are run
 * for real.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { ROOT, SERVICE_APPS } from './lib/apps';
import { execForm, parseDockerfile } from './lib/dockerfile';

const { stages } = parseDockerfile(path.join(ROOT, 'Dockerfile'));
const final = stages[stages.length - 1];
const ops = (op: string) => final.instructions.filter((i) => i.op === op);
const ignore = fs
  .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** True when .dockerignore excludes `rel` (patterns: `**` any depth, `*` one segment, prefixes). */
function ignored(rel: string): boolean {
  return ignore.some((pattern) => {
    const re = new RegExp(
      '^' +
        pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*\//g, '\u0001')
          .replace(/\*\*/g, '\u0002')
          .replace(/\*/g, '[^/]*')
          .replace(/\u0001/g, '(?:.*/)?')
          .replace(/\u0002/g, '.*') +
        '(?:/.*)?$',
    );
    return re.test(rel);
  });
}

describe('Dockerfile', () => {
  it('is multi-stage on one pinned Node.js LTS slim image and installs only production dependencies in the final stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.image).toBe(stages[0].image);
    expect(stages[0].image).toMatch(/^node:(22|24)\.\d+\.\d+-bookworm-slim$/);
    const runs = ops('RUN').map((i) => i.args);
    expect(runs.some((r) => /npm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(runs.some((r) => /npm ci\b(?!.*--omit=dev)/.test(r))).toBe(false);
    // The TypeScript build happens in an earlier stage, whose dist/ folders the final stage copies.
    const build = stages.find((s) =>
      s.instructions.some((i) => i.op === 'RUN' && i.args.includes('npm run build')),
    );
    expect(build).toBeDefined();
    expect(ops('COPY').some((c) => c.args.includes(`--from=${build?.name}`))).toBe(true);
  });

  it('runs as a non-root numeric user under tini, with a HEALTHCHECK', () => {
    const user = ops('USER').pop()?.args ?? 'root';
    expect(user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    const entry = execForm(ops('ENTRYPOINT').pop()?.args ?? '') ?? [];
    expect(entry[0]).toBe('/usr/bin/tini');
    expect(ops('RUN').some((r) => r.args.includes('install') && r.args.includes('tini'))).toBe(true);
    const hc = ops('HEALTHCHECK').pop()?.args ?? '';
    const cmd = execForm(hc.slice(hc.indexOf('CMD') + 3).trim()) ?? [];
    expect(cmd).toEqual(['node', '/usr/local/lib/diaryx/healthcheck.js']);
    expect(execForm(ops('CMD').pop()?.args ?? '')).toEqual(['gateway']);
    expect(
      ops('EXPOSE')
        .flatMap((e) => e.args.split(/\s+/))
        .map(Number)
        .sort(),
    ).toEqual(
      Object.values(SERVICE_APPS)
        .map((a) => a.port)
        .sort(),
    );
  });

  it('copies only paths that exist in the repository and are not excluded by .dockerignore', () => {
    for (const s of stages) {
      for (const c of s.instructions.filter((i) => i.op === 'COPY' && !i.args.includes('--from='))) {
        const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const src of parts.slice(0, -1)) {
          if (src === '.') continue;
          expect([src, fs.existsSync(path.join(ROOT, src))]).toEqual([src, true]);
          expect([src, ignored(src)]).toEqual([src, false]);
        }
      }
    }
    for (const p of [
      'node_modules',
      'apps/gateway/dist',
      '.git',
      '.env',
      'libs/crdt/test/x.test.ts',
      'libs/runtime/node_modules/x',
    ])
      expect([p, ignored(p)]).toEqual([p, true]);
    for (const p of [
      'package.json',
      'package-lock.json',
      'libs/crdt/src/index.ts',
      'deploy/docker/entrypoint.sh',
    ])
      expect([p, ignored(p)]).toEqual([p, false]);
    // Everything `tsc -b tsconfig.build.json` compiles is in the context.
    for (const group of ['libs', 'apps']) {
      for (const pkg of fs.readdirSync(path.join(ROOT, group))) {
        const tsconfigPath = path.join(ROOT, group, pkg, 'tsconfig.json');
        if (!fs.existsSync(tsconfigPath)) continue;
        const includes =
          (JSON.parse(fs.readFileSync(tsconfigPath, 'utf8')) as { include?: string[] }).include ?? [];
        for (const inc of ['tsconfig.json', 'package.json', ...includes]) {
          const rel = `${group}/${pkg}/${inc}`;
          expect([rel, ignored(rel)]).toEqual([rel, false]);
        }
      }
    }
  });

  it('each app entry point the image runs exists (src/main.ts compiled to dist/main.js)', () => {
    for (const app of [...Object.keys(SERVICE_APPS), 'cli']) {
      expect(fs.existsSync(path.join(ROOT, 'apps', app, 'src/main.ts'))).toBe(true);
      const tsconfig = fs.readFileSync(path.join(ROOT, 'apps', app, 'tsconfig.json'), 'utf8');
      expect(tsconfig).toMatch(/"outDir":\s*"dist"/);
      expect(tsconfig).toMatch(/"rootDir":\s*"src"/);
    }
  });
});

describe('deploy/docker/entrypoint.sh', () => {
  const script = path.join(ROOT, 'deploy/docker/entrypoint.sh');

  it('rejects an unknown app with exit code 64 and a usage message', () => {
    const r = spawnSync('sh', [script, 'nope'], { encoding: 'utf8' });
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('expected one of: gateway, doc-service, history-worker, cli, migrate');
  });

  it('execs node on /app/apps/<app>/dist/main.js with the remaining arguments', () => {
    // A fake `node` on PATH prints its arguments instead of running anything.
    const bin = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'dx-entry-'));
    fs.writeFileSync(path.join(bin, 'node'), '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
    try {
      for (const app of Object.keys(SERVICE_APPS)) {
        const r = spawnSync('sh', [script, app, '--flag'], {
          encoding: 'utf8',
          env: { PATH: `${bin}:${process.env.PATH}` },
        });
        expect(r.stdout.trim()).toBe(`/app/apps/${app}/dist/main.js --flag`);
      }
      const r = spawnSync('sh', [script], { encoding: 'utf8', env: { PATH: `${bin}:${process.env.PATH}` } });
      expect(r.stdout.trim()).toBe('/app/apps/gateway/dist/main.js');
      // `migrate` is the one-shot schema command, compiled from apps/gateway/src/migrate.ts.
      const m = spawnSync('sh', [script, 'migrate', '--check'], {
        encoding: 'utf8',
        env: { PATH: `${bin}:${process.env.PATH}` },
      });
      expect(m.stdout.trim()).toBe('/app/apps/gateway/dist/migrate.js --check');
      expect(fs.existsSync(path.join(ROOT, 'apps/gateway/src/migrate.ts'))).toBe(true);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe('deploy/docker/healthcheck.js', () => {
  const script = path.join(ROOT, 'deploy/docker/healthcheck.js');

  async function withServer(status: number, fn: (port: number) => void): Promise<string[]> {
    const paths: string[] = [];
    const server = http.createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      // spawnSync would block the server's event loop: run the check asynchronously.
      const port = (server.address() as AddressInfo).port;
      await new Promise<void>((resolve) => {
        const { spawn } = require('node:child_process') as typeof import('node:child_process');
        const child = spawn(process.execPath, [script], { env: { PORT: String(port) } });
        child.on('exit', (code) => {
          paths.push(`exit:${code}`);
          resolve();
        });
      });
      fn(port);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    return paths;
  }

  it('exits 0 when GET /healthz answers 200 and 1 otherwise', async () => {
    expect(await withServer(200, () => undefined)).toEqual(['/healthz', 'exit:0']);
    expect(await withServer(503, () => undefined)).toEqual(['/healthz', 'exit:1']);
  });

  it('exits 1 when nothing listens', () => {
    const r = spawnSync(process.execPath, [script], { env: { PORT: '1' }, timeout: 10_000 });
    expect(r.status).toBe(1);
  });
});
