/**
 * docker-compose.yml: valid against the Compose Specification JSON schema (vendored in
 * fixtures/compose-spec.schema.json) after interpolation, and consistent with the apps, the
 * Dockerfile, the reverse proxy and the Prometheus/Grafana configuration.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { loadServiceConfig } from '@diaryx-sync/runtime';
import {
  ROOT,
  SERVICE_APPS,
  type ServiceApp,
  appDefaultPort,
  configLoaderFiles,
  envReadsOf,
} from './lib/apps';
import {
  type ComposeFile,
  type ComposeService,
  commandArgs,
  interpolate,
  loadCompose,
  serviceEnv,
} from './lib/compose';

/* eslint-disable @typescript-eslint/no-explicit-any -- compose files are untyped YAML trees */
type Any = any;

const COMPOSE = path.join(ROOT, 'docker-compose.yml');
const schema = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'fixtures/compose-spec.schema.json'), 'utf8'),
) as Record<string, unknown>;
delete schema.$schema; // draft-07 over https; ajv's built-in draft-07 meta-schema is keyed by http
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addFormat('duration', /^[-+]?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
const validateCompose = ajv.compile(schema);

/** The variables compose requires (`${VAR:?…}`): set as an operator's `.env` would. */
const REQUIRED = { JWT_SECRET: 'x'.repeat(48), ADMIN_TOKEN: 'y'.repeat(32) };
const compose: ComposeFile = loadCompose(COMPOSE, REQUIRED);
const services = compose.services;
const appOf = (s: ComposeService): ServiceApp | undefined => {
  const first = commandArgs(s)[0];
  return first && first in SERVICE_APPS && s.build ? (first as ServiceApp) : undefined;
};
const appServices = Object.entries(services).filter(([, s]) => appOf(s));

describe('docker-compose.yml', () => {
  it('validates against the Compose Specification schema (defaults and with every variable set)', () => {
    expect(validateCompose(compose)).toBe(true);
    expect(ajv.errorsText(validateCompose.errors)).toBe('No errors');
    const vars = [...fs.readFileSync(COMPOSE, 'utf8').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]);
    const custom = Object.fromEntries(
      vars.map((v) => [v, v.endsWith('PORT') ? '18080' : `custom-${v.toLowerCase()}`]),
    );
    custom.SHARD_COUNT = '32';
    expect(validateCompose(loadCompose(COMPOSE, custom))).toBe(true);
  });

  it('refuses to start without JWT_SECRET or ADMIN_TOKEN (no known development secrets)', () => {
    const text = fs.readFileSync(COMPOSE, 'utf8');
    expect(text).toMatch(/\$\{JWT_SECRET:\?[^}]+\}/);
    expect(text).toMatch(/\$\{ADMIN_TOKEN:\?[^}]+\}/);
    expect(text).not.toContain('dev-only-jwt-secret');
    expect(text).not.toContain('dev-admin-token');
    expect(() => loadCompose(COMPOSE, {})).toThrow(/required variable (JWT_SECRET|ADMIN_TOKEN)/);
    expect(() => loadCompose(COMPOSE, { JWT_SECRET: 's' })).toThrow(/required variable ADMIN_TOKEN/);
    expect(() => loadCompose(COMPOSE, { ADMIN_TOKEN: 't' })).toThrow(/required variable JWT_SECRET/);
    expect(() => loadCompose(COMPOSE, { JWT_SECRET: '', ADMIN_TOKEN: 't' })).toThrow(/JWT_SECRET/);
    for (const [, s] of appServices) {
      expect(serviceEnv(s).JWT_SECRET).toBe(REQUIRED.JWT_SECRET);
      expect(serviceEnv(s).ADMIN_TOKEN).toBe(REQUIRED.ADMIN_TOKEN);
    }
  });

  it('runs migrations once in the `migrate` service before any app service starts; apps never migrate', () => {
    const m = services.migrate;
    expect(commandArgs(m)).toEqual(['migrate']);
    expect(m.build).toBeDefined(); // the Diaryx image, whose entrypoint knows `migrate`
    expect(m.restart).toBe('no');
    expect(m.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    const entrypoint = fs.readFileSync(path.join(ROOT, 'deploy/docker/entrypoint.sh'), 'utf8');
    expect(entrypoint).toMatch(/^\s*migrate\)\s*$/m);
    for (const [name, s] of appServices) {
      expect([name, (s.depends_on as Any).migrate]).toEqual([
        name,
        { condition: 'service_completed_successfully' },
      ]);
      expect([name, serviceEnv(s).MIGRATE_ON_START]).toEqual([name, 'false']);
    }
  });

  it('the schema rejects mistakes (the check can fail)', () => {
    const broken = structuredClone(compose) as Any;
    broken.services.redis.healtcheck = broken.services.redis.healthcheck;
    expect(validateCompose(broken)).toBe(false);
    const broken2 = structuredClone(compose) as Any;
    broken2.services['gateway-1'].depends_on.redis.condition = 'service_happy';
    expect(validateCompose(broken2)).toBe(false);
  });

  it('documents every variable it reads in deploy/compose.env.example, with the same default', () => {
    const example = Object.fromEntries(
      fs
        .readFileSync(path.join(ROOT, 'deploy/compose.env.example'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const text = fs.readFileSync(COMPOSE, 'utf8');
    for (const m of text.matchAll(/\$\{([A-Z_][A-Z0-9_]*):-([^}]*)\}/g)) {
      expect([m[1], example[m[1]]]).toEqual([m[1], m[2]]);
    }
  });

  it('runs PostgreSQL, Redis (AOF), MinIO + bucket creation, 2 gateways behind a proxy, 2 doc services, 1 worker, Prometheus, Grafana', () => {
    const byApp = (app: string) => appServices.filter(([, s]) => appOf(s) === app).map(([n]) => n);
    expect(byApp('gateway')).toHaveLength(2);
    expect(byApp('doc-service')).toHaveLength(2);
    expect(byApp('history-worker')).toHaveLength(1);
    for (const name of ['postgres', 'redis', 'minio', 'minio-init', 'proxy', 'prometheus', 'grafana'])
      expect(services[name]).toBeDefined();
    expect(commandArgs(services.redis).join(' ')).toContain('--appendonly yes');
    expect(JSON.stringify(services['minio-init'].entrypoint)).toContain('mc mb --ignore-existing');
  });

  it('every long-running service has a health check; dependencies wait for service_healthy (or completion)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === 'minio-init' || name === 'migrate') continue; // one-shot jobs
      expect([name, Boolean(s.healthcheck?.test)]).toEqual([name, true]);
    }
    for (const [name, s] of Object.entries(services)) {
      const deps = (s.depends_on ?? {}) as Record<string, { condition: string }>;
      expect(Array.isArray(s.depends_on)).toBe(false);
      for (const [dep, { condition }] of Object.entries(deps)) {
        expect(services[dep]).toBeDefined();
        const expected = ['minio-init', 'migrate'].includes(dep)
          ? 'service_completed_successfully'
          : 'service_healthy';
        expect([name, dep, condition]).toEqual([name, dep, expected]);
      }
    }
    for (const [name] of appServices) {
      expect(Object.keys(services[name].depends_on as object).sort()).toEqual([
        'migrate',
        'minio-init',
        'postgres',
        'redis',
      ]);
    }
  });

  it('stores state in named volumes declared at the top level', () => {
    const declared = Object.keys(compose.volumes ?? {});
    for (const name of ['postgres', 'redis', 'minio', 'prometheus', 'grafana']) {
      const vols = (services[name].volumes ?? []) as string[];
      const named = vols
        .map((v) => String(v).split(':')[0])
        .filter((src) => !src.startsWith('.') && !src.startsWith('/'));
      expect([name, named.length]).toEqual([name, 1]);
      expect(declared).toContain(named[0]);
    }
    // Bind-mounted config files exist in the repository.
    for (const s of Object.values(services)) {
      for (const v of (s.volumes ?? []) as string[]) {
        const src = String(v).split(':')[0];
        if (src.startsWith('./')) expect([src, fs.existsSync(path.join(ROOT, src))]).toEqual([src, true]);
      }
    }
  });

  it.each(Object.keys(SERVICE_APPS) as ServiceApp[])(
    '%s: PORT = contract port; healthcheck uses it; env complete and read by the app',
    (app) => {
      const reads = envReadsOf(app);
      const entries = appServices.filter(([, s]) => appOf(s) === app);
      expect(entries.length).toBeGreaterThan(0);
      for (const [name, s] of entries) {
        const env = serviceEnv(s);
        expect([name, Number(env.PORT)]).toEqual([name, SERVICE_APPS[app].port]);
        const ownDefault = appDefaultPort(app);
        if (ownDefault !== undefined) expect(ownDefault).toBe(SERVICE_APPS[app].port);
        expect(s.healthcheck?.test).toEqual(['CMD', 'node', '/usr/local/lib/diaryx/healthcheck.js']);
        const missing = [...reads.values()]
          .filter((r) => !r.defaulted && !(r.name in env))
          .map((r) => r.name);
        expect([name, missing]).toEqual([name, []]);
        expect([name, Object.keys(env).filter((k) => !reads.has(k))]).toEqual([name, []]);
        const cfg = loadServiceConfig(env);
        expect(cfg.PORT).toBe(SERVICE_APPS[app].port);
        for (const file of configLoaderFiles(app)) {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const mod = require(file) as Record<string, unknown>;
          for (const [fn, f] of Object.entries(mod)) {
            if (/^load\w*(Config|Settings)$/.test(fn) && typeof f === 'function')
              expect(() => (f as (e: NodeJS.ProcessEnv) => unknown)(env)).not.toThrow();
          }
        }
      }
    },
  );

  it('app services build the Dockerfile and pass an app name its entrypoint knows', () => {
    const entrypoint = fs.readFileSync(path.join(ROOT, 'deploy/docker/entrypoint.sh'), 'utf8');
    for (const [name, s] of appServices) {
      expect([name, (s.build as { dockerfile: string }).dockerfile]).toEqual([name, 'Dockerfile']);
      expect(fs.existsSync(path.join(ROOT, (s.build as { context: string }).context, 'Dockerfile'))).toBe(
        true,
      );
      expect(s.entrypoint).toBeUndefined(); // tini + entrypoint.sh stay in charge
      expect(entrypoint).toContain(commandArgs(s)[0]);
    }
  });

  it('connection settings point at the compose services, with matching credentials', () => {
    for (const [name, s] of appServices) {
      const env = serviceEnv(s);
      const db = new URL(env.DATABASE_URL);
      expect([name, db.hostname, db.port]).toEqual([name, 'postgres', '5432']);
      const pg = serviceEnv(services.postgres);
      expect([db.username, db.password, db.pathname.slice(1)]).toEqual([
        pg.POSTGRES_USER,
        pg.POSTGRES_PASSWORD,
        pg.POSTGRES_DB,
      ]);
      expect(new URL(env.REDIS_URL).hostname).toBe('redis');
      expect(new URL(env.S3_ENDPOINT).host).toBe('minio:9000');
      const minio = serviceEnv(services.minio);
      expect([env.S3_ACCESS_KEY, env.S3_SECRET_KEY]).toEqual([
        minio.MINIO_ROOT_USER,
        minio.MINIO_ROOT_PASSWORD,
      ]);
      expect(env.S3_BUCKET).toBe(serviceEnv(services['minio-init']).S3_BUCKET);
    }
  });

  it('the reverse proxy balances over both gateways on their port and passes WebSocket upgrades', () => {
    const conf = fs.readFileSync(path.join(ROOT, 'deploy/nginx/nginx.conf'), 'utf8');
    const upstreams = [...conf.matchAll(/^\s*server\s+([\w-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    const gateways = appServices
      .filter(([, s]) => appOf(s) === 'gateway')
      .map(([n]) => `${n}:${SERVICE_APPS.gateway.port}`);
    expect(upstreams.sort()).toEqual(gateways.sort());
    expect(conf).toMatch(/proxy_http_version 1\.1;/);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(Number(/proxy_read_timeout (\d+)s;/.exec(conf)?.[1])).toBeGreaterThanOrEqual(3600);
    // The proxy health check path exists in the config.
    const hc = JSON.stringify(services.proxy.healthcheck?.test);
    expect(conf).toContain(`location = ${/http:\/\/127\.0\.0\.1(\/[\w-]+)/.exec(hc)?.[1]}`);
    expect(services.proxy.ports?.[0]).toBe('8080:80');
    // /metrics is not served through the published proxy.
    expect(conf).toMatch(/location \^~ \/metrics \{\s*return 404;\s*\}/);
    for (const [name, s] of appServices) expect([name, s.ports]).toEqual([name, undefined]); // only the proxy is published
  });

  it('Prometheus scrapes every app instance on its metrics port; Grafana is provisioned with the dashboard', () => {
    const prom = parse(fs.readFileSync(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as Any;
    const targets = prom.scrape_configs.flatMap((j: Any) => j.static_configs.flatMap((c: Any) => c.targets));
    for (const [name, s] of appServices) {
      // Gateways serve /metrics only on METRICS_PORT (never on the proxied PORT).
      const env = serviceEnv(s);
      const port =
        appOf(s) === 'gateway' ? Number(env.METRICS_PORT) : SERVICE_APPS[appOf(s) as ServiceApp].port;
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(appOf(s) === 'gateway' ? Number(env.PORT) : -1);
      expect(targets).toContain(`${name}:${port}`);
    }
    for (const job of prom.scrape_configs) expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    const grafanaVolumes = (services.grafana.volumes ?? []) as string[];
    expect(grafanaVolumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    const dashMount = grafanaVolumes.find((v) =>
      v.startsWith('./deploy/grafana/diaryx-sync.json:'),
    ) as string;
    const provider = parse(
      fs.readFileSync(path.join(ROOT, 'deploy/grafana/provisioning/dashboards/diaryx-sync.yml'), 'utf8'),
    ) as Any;
    expect(path.posix.dirname(dashMount.split(':')[1])).toBe(provider.providers[0].options.path);
    const ds = parse(
      fs.readFileSync(path.join(ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
    ) as Any;
    expect(ds.datasources[0].url).toBe('http://prometheus:9090');
    expect(services.prometheus.volumes).toContain(
      './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
  });
});

describe('compose interpolation', () => {
  it('handles defaults, required variables and $$ escapes like Docker Compose', () => {
    expect(interpolate('${A:-x}/${B-y}/${C:-}/$D/$$E', { A: '', B: '', D: 'd' })).toBe('x//' + '/d/$E');
    expect(() => interpolate('${A:?must be set}', {})).toThrow(/must be set/);
  });
});
