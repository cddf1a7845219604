/**
 * Kubernetes manifests: assemble what `kustomize build` produces for each overlay, validate every
 * object against the Kubernetes schemas (kubernetes-models; a subset schema for the two CRDs) and
 * cross-check them against each other, the apps' code and the Dockerfile.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { loadServiceConfig } from '@diaryx-sync/runtime';
import {
  ROOT,
  SERVICE_APPS,
  type ServiceApp,
  appDefaultPort,
  appServesRoute,
  configLoaderFiles,
  envReadsOf,
} from './lib/apps';
import { scaledObjectSchema, serviceMonitorSchema } from './lib/crd-schemas';
import {
  type K8sObject,
  applyJson6902,
  kustomizeBuild,
  podLabelsOf,
  podSpecOf,
  strategicMerge,
} from './lib/kustomize';
import { type LabelSelector, isEmptySelector, selectorMatches } from './lib/selectors';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML trees */
type Any = any;

const MODEL_MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
};

const ajv = new Ajv({ allErrors: true, strict: false });
const CRD_VALIDATORS: Record<string, ReturnType<typeof ajv.compile>> = {
  'monitoring.coreos.com/v1/ServiceMonitor': ajv.compile(serviceMonitorSchema),
  'keda.sh/v1alpha1/ScaledObject': ajv.compile(scaledObjectSchema),
};

/** Validates one object; throws with the schema errors. */
function validateObject(o: K8sObject): void {
  const crd = CRD_VALIDATORS[`${o.apiVersion}/${o.kind}`];
  if (crd) {
    if (!crd(o)) throw new Error(`${o.kind}/${o.metadata.name}: ${ajv.errorsText(crd.errors)}`);
    return;
  }
  const modulePath = MODEL_MODULES[o.apiVersion];
  if (!modulePath) throw new Error(`${o.kind}/${o.metadata.name}: no schema for apiVersion ${o.apiVersion}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Model = (require(modulePath) as Record<string, new (d: unknown) => { validate(): void }>)[o.kind];
  if (!Model) throw new Error(`${o.kind}/${o.metadata.name}: unknown kind for ${o.apiVersion}`);
  new Model(o).validate();
}

/** Secret keys the operator must create in production (deploy/README.md documents them). */
const PROD_SECRET_KEYS = [
  'REDIS_URL',
  'DATABASE_URL',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
  'JWT_SECRET',
  'ADMIN_TOKEN',
];
/** Stand-in values for the externally created prod Secret, used to run the apps' config parsers. */
const PROD_SECRET_SAMPLE: Record<string, string> = {
  REDIS_URL: 'redis://redis.internal:6379',
  DATABASE_URL: 'postgres://diaryx:secret@db.internal:5432/diaryx',
  S3_ACCESS_KEY: 'AKIAEXAMPLE',
  S3_SECRET_KEY: 'secret-example',
  JWT_SECRET: 'x'.repeat(48),
  ADMIN_TOKEN: 'y'.repeat(32),
};

const OVERLAYS = { dev: 'diaryx-dev', prod: 'diaryx' } as const;

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} missing`);
  return o;
}

const workloads = (objects: K8sObject[]) =>
  objects.filter((o) => ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(o.kind));

/** Resolves a container's environment to plain values (config maps, secrets, field refs). */
function resolveEnv(
  objects: K8sObject[],
  container: Any,
  overlay: keyof typeof OVERLAYS,
): Record<string, string> {
  const env: Record<string, string> = {};
  const secretData = (name: string): Record<string, string> | undefined => {
    const s = objects.find((o) => o.kind === 'Secret' && o.metadata.name === name) as Any;
    if (!s) return overlay === 'prod' && name === 'diaryx-secrets' ? PROD_SECRET_SAMPLE : undefined;
    const decoded = Object.fromEntries(
      Object.entries((s.data ?? {}) as Record<string, string>).map(([k, v]) => [
        k,
        Buffer.from(v, 'base64').toString(),
      ]),
    );
    return { ...decoded, ...(s.stringData ?? {}) };
  };
  const configData = (name: string): Record<string, string> | undefined =>
    (objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name) as Any)?.data;
  for (const from of container.envFrom ?? []) {
    const data = from.configMapRef ? configData(from.configMapRef.name) : secretData(from.secretRef.name);
    if (!data) throw new Error(`envFrom ${JSON.stringify(from)} refers to nothing`);
    Object.assign(env, data);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (e.valueFrom?.configMapKeyRef) {
      const data = configData(e.valueFrom.configMapKeyRef.name);
      if (!data || !(e.valueFrom.configMapKeyRef.key in data))
        throw new Error(`${e.name}: ConfigMap key ${JSON.stringify(e.valueFrom.configMapKeyRef)} missing`);
      env[e.name] = data[e.valueFrom.configMapKeyRef.key];
    } else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const data = secretData(ref.name);
      if (!data || !(ref.key in data)) {
        // `optional: true`: Kubernetes leaves the variable unset when the key is absent.
        if (ref.optional === true) continue;
        throw new Error(`${e.name}: Secret key ${ref.name}/${ref.key} missing`);
      }
      env[e.name] = data[ref.key];
    } else if (e.valueFrom?.fieldRef) env[e.name] = `<${e.valueFrom.fieldRef.fieldPath}>`;
    else throw new Error(`${e.name}: unsupported env source`);
  }
  return env;
}

function appContainer(objects: K8sObject[], app: ServiceApp): Any {
  const d = find(objects, 'Deployment', app);
  const c = (podSpecOf(d) as Any).containers.find((x: Any) => x.name === app);
  if (!c) throw new Error(`Deployment/${app} has no container named ${app}`);
  return c;
}

/** Container port number a Service/probe port (number or name) refers to. */
function resolvePort(container: Any, port: number | string): number | undefined {
  if (typeof port === 'number')
    return (container.ports ?? []).some((p: Any) => p.containerPort === port) ? port : undefined;
  return (container.ports ?? []).find((p: Any) => p.name === port)?.containerPort;
}

const entrypoint = fs.readFileSync(path.join(ROOT, 'deploy/docker/entrypoint.sh'), 'utf8');
const entrypointApps = (/^\s*([a-z| -]+)\)\s*$/m.exec(entrypoint)?.[1] ?? '').split('|').map((s) => s.trim());

describe.each(Object.keys(OVERLAYS) as (keyof typeof OVERLAYS)[])('kustomize overlay %s', (overlay) => {
  const objects = kustomizeBuild(path.join(ROOT, 'deploy/k8s/overlays', overlay));
  const namespace = OVERLAYS[overlay];

  it('builds the expected objects, each valid against its schema', () => {
    expect(objects.length).toBeGreaterThan(15);
    const errors: string[] = [];
    for (const o of objects) {
      try {
        validateObject(o);
      } catch (err) {
        errors.push(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
      }
    }
    expect(errors).toEqual([]);
    for (const app of Object.keys(SERVICE_APPS)) {
      find(objects, 'Deployment', app);
      find(objects, 'Service', app);
      find(objects, 'PodDisruptionBudget', app);
    }
    for (const kind of ['Ingress', 'NetworkPolicy', 'ConfigMap', 'Namespace', 'Job']) {
      expect(objects.some((o) => o.kind === kind)).toBe(true);
    }
    // The ServiceMonitor is an optional component: prod enables it, dev does not.
    expect(objects.some((o) => o.kind === 'ServiceMonitor')).toBe(overlay === 'prod');
    find(objects, 'HorizontalPodAutoscaler', 'gateway');
    find(objects, 'HorizontalPodAutoscaler', 'doc-service');
  });

  it(`puts every namespaced object in namespace ${namespace}, which the overlay creates`, () => {
    find(objects, 'Namespace', namespace);
    for (const o of objects.filter((x) => x.kind !== 'Namespace'))
      expect(`${o.kind}/${o.metadata.name}:${o.metadata.namespace}`).toBe(
        `${o.kind}/${o.metadata.name}:${namespace}`,
      );
  });

  it('selectors match pod labels (workloads, Services, PDBs, HPAs, NetworkPolicies)', () => {
    const pods = workloads(objects).map((w) => ({ w, labels: podLabelsOf(w) }));
    for (const w of workloads(objects).filter((x) => x.kind !== 'Job')) {
      expect(selectorMatches((w.spec as Any).selector, podLabelsOf(w))).toBe(true);
      // No other workload's pods may be captured by this selector.
      const captured = pods
        .filter((p) => selectorMatches((w.spec as Any).selector, p.labels))
        .map((p) => p.w.metadata.name);
      expect(captured).toEqual([w.metadata.name]);
    }
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const matched = pods.filter((p) =>
        selectorMatches({ matchLabels: (svc.spec as Any).selector }, p.labels),
      );
      expect(`${svc.metadata.name}: ${matched.map((p) => p.w.metadata.name)}`).toBe(
        `${svc.metadata.name}: ${svc.metadata.name}`,
      );
    }
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
      expect(
        pods
          .filter((p) => selectorMatches((pdb.spec as Any).selector, p.labels))
          .map((p) => p.w.metadata.name),
      ).toEqual([pdb.metadata.name]);
    }
    for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
      const ref = (hpa.spec as Any).scaleTargetRef;
      find(objects, ref.kind, ref.name);
      expect((hpa.spec as Any).minReplicas).toBeLessThanOrEqual((hpa.spec as Any).maxReplicas);
    }
    for (const np of objects.filter((o) => o.kind === 'NetworkPolicy')) {
      const sel = (np.spec as Any).podSelector as LabelSelector;
      if (isEmptySelector(sel)) continue;
      expect(`${np.metadata.name}: ${pods.some((p) => selectorMatches(sel, p.labels))}`).toBe(
        `${np.metadata.name}: true`,
      );
    }
  });

  it.each(Object.keys(SERVICE_APPS) as ServiceApp[])(
    '%s: Service port -> container port -> PORT env = contract port',
    (app) => {
      const c = appContainer(objects, app);
      const port = SERVICE_APPS[app].port;
      const env = resolveEnv(objects, c, overlay);
      expect(Number(env.PORT)).toBe(port);
      const ownDefault = appDefaultPort(app);
      if (ownDefault !== undefined) expect(ownDefault).toBe(port);
      expect(resolvePort(c, 'http')).toBe(port);
      const svc = find(objects, 'Service', app);
      for (const p of (svc.spec as Any).ports.filter((x: Any) => x.name !== 'metrics'))
        expect(resolvePort(c, p.targetPort ?? p.port)).toBe(port);
      // The `metrics` Service port reaches /metrics: METRICS_PORT when the app has one (gateway),
      // else the app port (where doc services and workers serve it).
      const metrics = (svc.spec as Any).ports.find((x: Any) => x.name === 'metrics');
      const metricsPort = env.METRICS_PORT !== undefined ? Number(env.METRICS_PORT) : port;
      expect(resolvePort(c, metrics.targetPort)).toBe(metricsPort);
      if (app === 'gateway') expect(metricsPort).not.toBe(port);
    },
  );

  it.each(Object.keys(SERVICE_APPS) as ServiceApp[])(
    '%s: probes hit /healthz and /readyz on the app port, which the app serves',
    (app) => {
      const c = appContainer(objects, app);
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean)) {
        expect(resolvePort(c, probe.httpGet.port)).toBe(SERVICE_APPS[app].port);
      }
      expect(appServesRoute(app, '/healthz')).toBe(true);
      expect(appServesRoute(app, '/readyz')).toBe(true);
      expect(appServesRoute(app, '/metrics')).toBe(true);
    },
  );

  it.each(Object.keys(SERVICE_APPS) as ServiceApp[])(
    '%s: every env var the app reads is set or defaulted, and every var set is read',
    (app) => {
      const env = resolveEnv(objects, appContainer(objects, app), overlay);
      const reads = envReadsOf(app);
      const missing = [...reads.values()]
        .filter((r) => !r.defaulted && !(r.name in env))
        .map((r) => `${r.name} (${r.file})`);
      expect(missing).toEqual([]);
      const unread = Object.keys(env).filter((name) => !reads.has(name));
      expect(unread).toEqual([]);
    },
  );

  it.each(Object.keys(SERVICE_APPS) as ServiceApp[])(
    "%s: the app's config parsers accept the deployed environment",
    (app) => {
      const env = resolveEnv(objects, appContainer(objects, app), overlay);
      const cfg = loadServiceConfig(env);
      expect(cfg.PORT).toBe(SERVICE_APPS[app].port);
      expect(cfg.JWT_SECRET).not.toBe(overlay === 'prod' ? 'dev-only-jwt-secret-change-me' : '');
      for (const file of configLoaderFiles(app)) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(file) as Record<string, unknown>;
        for (const [name, fn] of Object.entries(mod)) {
          if (/^load\w*(Config|Settings)$/.test(name) && typeof fn === 'function')
            expect(() => (fn as (e: NodeJS.ProcessEnv) => unknown)(env)).not.toThrow();
        }
      }
    },
  );

  it('runs the Dockerfile image through its entrypoint with a known app, never overriding ENTRYPOINT (tini)', () => {
    const expected = overlay === 'dev' ? 'diaryx-sync:dev' : /^ghcr\.io\/diaryx\/diaryx-sync:\d+\.\d+\.\d+$/;
    for (const app of Object.keys(SERVICE_APPS) as ServiceApp[]) {
      const c = appContainer(objects, app);
      if (typeof expected === 'string') expect(c.image).toBe(expected);
      else expect(c.image).toMatch(expected);
      expect(c.command).toBeUndefined();
      expect(c.args[0]).toBe(app);
      expect(entrypointApps).toContain(app);
      expect(fs.existsSync(path.join(ROOT, 'apps', app, 'src/main.ts'))).toBe(true);
    }
    for (const w of workloads(objects)) {
      const spec = podSpecOf(w) as Any;
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])])
        expect(c.image).not.toBe('diaryx-sync'); // placeholder must be rewritten
    }
  });

  it('migrations: a one-shot Job runs `migrate`; app pods wait for the schema and never migrate themselves', () => {
    const job = find(objects, 'Job', 'migrate') as Any;
    const spec = podSpecOf(job) as Any;
    const app = appContainer(objects, 'gateway');
    expect(spec.containers).toHaveLength(1);
    expect(spec.containers[0].args).toEqual(['migrate']);
    expect(spec.containers[0].command).toBeUndefined(); // through the image entrypoint (tini)
    expect(spec.containers[0].image).toBe(app.image); // same release as the apps
    expect(entrypoint).toMatch(/^\s*migrate\)\s*$/m);
    expect(spec.restartPolicy).toBe('OnFailure');
    expect(job.spec.backoffLimit).toBeGreaterThan(0); // a migration that hit lock_timeout is retried
    const jobEnv = resolveEnv(objects, spec.containers[0], overlay);
    expect(jobEnv.DATABASE_URL).toBeDefined();
    expect(Number(jobEnv.MIGRATION_LOCK_TIMEOUT_MS)).toBeGreaterThan(0);
    for (const name of Object.keys(SERVICE_APPS) as ServiceApp[]) {
      const d = find(objects, 'Deployment', name);
      const pod = podSpecOf(d) as Any;
      // Ordered before the app: the init container blocks until the Job's migrations are recorded.
      const init = (pod.initContainers ?? []).find((x: Any) => x.name === 'wait-for-schema');
      expect([name, init?.args?.slice(0, 2)]).toEqual([name, ['migrate', '--wait']]);
      expect(init.image).toBe(app.image);
      const initEnv = resolveEnv(objects, init, overlay);
      expect(new URL(initEnv.DATABASE_URL).hostname).toBe(new URL(jobEnv.DATABASE_URL).hostname);
      // The app only checks the schema (MIGRATE_ON_START=false) and readiness never migrates.
      const env = resolveEnv(objects, appContainer(objects, name), overlay);
      expect([name, env.MIGRATE_ON_START]).toEqual([name, 'false']);
      expect(appContainer(objects, name).readinessProbe.httpGet.path).toBe('/readyz');
    }
  });

  it('hardens every pod: non-root, read-only root fs, no privilege escalation, capabilities dropped, resources', () => {
    for (const w of workloads(objects)) {
      const spec = podSpecOf(w) as Any;
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const c of spec.containers) {
        const where = `${w.kind}/${w.metadata.name}/${c.name}`;
        expect([where, c.securityContext.allowPrivilegeEscalation]).toEqual([where, false]);
        expect([where, c.securityContext.readOnlyRootFilesystem]).toEqual([where, true]);
        expect([where, c.securityContext.capabilities.drop]).toEqual([where, ['ALL']]);
        for (const k of ['cpu', 'memory']) {
          expect([where, k, typeof c.resources.requests[k]]).toEqual([where, k, 'string']);
          expect([where, k, typeof c.resources.limits[k]]).toEqual([where, k, 'string']);
        }
        // Every writable path is a volume (the root filesystem is read-only).
        for (const m of c.volumeMounts ?? [])
          expect(
            (spec.volumes ?? []).some((v: Any) => v.name === m.name) ||
              (w.spec as Any).volumeClaimTemplates?.some((v: Any) => v.metadata.name === m.name),
          ).toBe(true);
      }
    }
    for (const app of Object.keys(SERVICE_APPS) as ServiceApp[]) {
      expect(appContainer(objects, app).volumeMounts.map((m: Any) => m.mountPath)).toContain('/tmp');
    }
  });

  it("gateway drain: preStop delay + the app's drain timeout fit in the grace period", () => {
    const d = find(objects, 'Deployment', 'gateway');
    const spec = podSpecOf(d) as Any;
    const c = appContainer(objects, 'gateway');
    const sleep = Number(c.lifecycle.preStop.exec.command[1]);
    expect(c.lifecycle.preStop.exec.command[0]).toBe('sleep');
    expect(sleep).toBeGreaterThan(0);
    const env = resolveEnv(objects, c, overlay);
    // The gateway's own default (apps/gateway/src/sync/sync-config.ts) unless set.
    const drainMs = Number(env.SYNC_DRAIN_TIMEOUT_MS ?? 10_000);
    expect(sleep + drainMs / 1000 + 5).toBeLessThanOrEqual(spec.terminationGracePeriodSeconds);
    // The process's own hard shutdown deadline (apps/gateway/src/main.ts) also fits after preStop.
    const main = fs.readFileSync(path.join(ROOT, 'apps/gateway/src/main.ts'), 'utf8');
    const deadline = /SHUTDOWN_DEADLINE_MS\s*=\s*([\d_]+)/.exec(main);
    if (deadline)
      expect(sleep + Number(deadline[1].replace(/_/g, '')) / 1000).toBeLessThanOrEqual(
        spec.terminationGracePeriodSeconds,
      );
    expect((d.spec as Any).strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('Ingress routes every path to the gateway Service with long WebSocket timeouts', () => {
    const ing = find(objects, 'Ingress', 'gateway') as Any;
    const annotations = ing.metadata.annotations;
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(
      3600,
    );
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(
      3600,
    );
    const backends = ing.spec.rules.flatMap((r: Any) => r.http.paths.map((p: Any) => p.backend.service));
    expect(backends.length).toBeGreaterThan(0);
    const svc = find(objects, 'Service', 'gateway') as Any;
    for (const b of backends) {
      expect(b.name).toBe('gateway');
      expect(svc.spec.ports.some((p: Any) => p.name === b.port.name || p.port === b.port.number)).toBe(true);
    }
    if (overlay === 'prod') expect(ing.spec.tls[0].hosts).toContain(ing.spec.rules[0].host);
  });

  it('NetworkPolicies: default deny; only the gateway is reachable from outside; data stores only from the services', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as Any[];
    expect(
      policies.some(
        (p) =>
          isEmptySelector(p.spec.podSelector) &&
          p.spec.policyTypes.includes('Ingress') &&
          !(p.spec.ingress ?? []).length,
      ),
    ).toBe(true);
    const openRule = (rule: Any) =>
      !rule.from ||
      rule.from.length === 0 ||
      rule.from.some(
        (f: Any) =>
          f.ipBlock || (f.namespaceSelector && isEmptySelector(f.namespaceSelector) && !f.podSelector),
      );
    for (const w of workloads(objects)) {
      const labels = podLabelsOf(w);
      const rules = policies
        .filter((p) => selectorMatches(p.spec.podSelector, labels))
        .flatMap((p) => p.spec.ingress ?? []);
      const reachableFromOutside = rules.some(openRule);
      expect(`${w.metadata.name}: ${reachableFromOutside}`).toBe(
        `${w.metadata.name}: ${w.metadata.name === 'gateway'}`,
      );
      if (labels['app.kubernetes.io/component'] === 'datastore') {
        // Every peer allowed to reach a data store is a Diaryx service pod (or the bucket job).
        const peers = rules.flatMap((r: Any) => r.from);
        expect(peers.length).toBeGreaterThan(0);
        for (const peer of peers) {
          const allowed = workloads(objects)
            .filter((x) => selectorMatches(peer.podSelector, podLabelsOf(x)))
            .map((x) => x.metadata.name);
          expect(
            allowed.every((n) =>
              ['gateway', 'doc-service', 'history-worker', 'minio-bucket', 'migrate'].includes(n),
            ),
          ).toBe(true);
        }
      }
    }
    // With in-cluster data stores (dev), each service pod can reach them.
    const storePolicy = policies.find(
      (p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/component'] === 'datastore',
    );
    expect(storePolicy !== undefined).toBe(overlay === 'dev');
    for (const app of storePolicy ? Object.keys(SERVICE_APPS) : []) {
      expect(
        storePolicy.spec.ingress.some((r: Any) =>
          r.from.some((f: Any) =>
            selectorMatches(f.podSelector, podLabelsOf(find(objects, 'Deployment', app))),
          ),
        ),
      ).toBe(true);
    }
  });

  it('Ingress never routes to the metrics port; only Prometheus (namespace monitoring) may reach it', () => {
    const ing = find(objects, 'Ingress', 'gateway') as Any;
    for (const r of ing.spec.rules)
      for (const p of r.http.paths)
        expect(p.backend.service.port.name ?? p.backend.service.port.number).toBe('http');
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as Any[];
    const gatewayLabels = podLabelsOf(find(objects, 'Deployment', 'gateway'));
    const metricsRules = policies
      .filter((p) => selectorMatches(p.spec.podSelector, gatewayLabels))
      .flatMap((p) => p.spec.ingress ?? [])
      .filter((rule: Any) => (rule.ports ?? []).some((x: Any) => x.port === 'metrics' || x.port === 9464));
    expect(metricsRules.length).toBeGreaterThan(0);
    for (const rule of metricsRules)
      expect(rule.from).toEqual([
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
      ]);
  });

  if (overlay === 'dev')
    it('dev applies on a bare cluster: only built-in Kubernetes kinds (no CRDs such as ServiceMonitor)', () => {
      for (const o of objects) expect([o.kind, Boolean(MODEL_MODULES[o.apiVersion])]).toEqual([o.kind, true]);
    });

  (overlay === 'prod' ? it : it.skip)(
    'ServiceMonitor scrapes /metrics of every service Service through a named port that exists',
    () => {
      const sm = objects.find((o) => o.kind === 'ServiceMonitor') as Any;
      const selected = objects.filter(
        (o) => o.kind === 'Service' && selectorMatches(sm.spec.selector, o.metadata.labels ?? {}),
      );
      expect(selected.map((s) => s.metadata.name).sort()).toEqual(Object.keys(SERVICE_APPS).sort());
      for (const ep of sm.spec.endpoints) {
        expect(ep.path).toBe('/metrics');
        expect(ep.port).toBe('metrics');
        for (const s of selected as Any[])
          expect(s.spec.ports.some((p: Any) => p.name === ep.port)).toBe(true);
      }
    },
  );

  if (overlay === 'dev') {
    it('dev: single-replica PostgreSQL, Redis (AOF) and MinIO StatefulSets that the connection settings point at', () => {
      for (const name of ['postgres', 'redis', 'minio']) {
        const sts = find(objects, 'StatefulSet', name) as Any;
        expect(sts.spec.replicas).toBe(1);
        expect(sts.spec.serviceName).toBe(name);
        find(objects, 'Service', name);
      }
      expect(find(objects, 'StatefulSet', 'redis').spec).toMatchObject({});
      const redisArgs = (podSpecOf(find(objects, 'StatefulSet', 'redis')) as Any).containers[0].args.join(
        ' ',
      );
      expect(redisArgs).toContain('--appendonly yes');
      const env = resolveEnv(objects, appContainer(objects, 'doc-service'), overlay);
      const targets: [string, number][] = [
        [new URL(env.DATABASE_URL).hostname, Number(new URL(env.DATABASE_URL).port)],
        [new URL(env.REDIS_URL).hostname, Number(new URL(env.REDIS_URL).port)],
        [new URL(env.S3_ENDPOINT).hostname, Number(new URL(env.S3_ENDPOINT).port)],
      ];
      for (const [host, port] of targets) {
        const svc = find(objects, 'Service', host) as Any;
        const sts = find(objects, 'StatefulSet', host);
        const p = svc.spec.ports.find((x: Any) => x.port === port);
        expect(p).toBeDefined();
        expect(resolvePort((podSpecOf(sts) as Any).containers[0], p.targetPort)).toBe(port);
      }
      // The database URL carries the credentials PostgreSQL is initialised with.
      const secret = find(objects, 'Secret', 'diaryx-secrets') as Any;
      const db = new URL(env.DATABASE_URL);
      expect([db.username, db.password, db.pathname.slice(1)]).toEqual([
        secret.stringData.POSTGRES_USER,
        secret.stringData.POSTGRES_PASSWORD,
        secret.stringData.POSTGRES_DB,
      ]);
      // The bucket job creates the bucket the services use.
      const job = resolveEnv(
        objects,
        (podSpecOf(find(objects, 'Job', 'minio-bucket')) as Any).containers[0],
        overlay,
      );
      expect(job.S3_BUCKET).toBe(env.S3_BUCKET);
    });
  } else {
    it('prod: external services, more replicas, KEDA scales the worker on queue depth (and no HPA fights it)', () => {
      expect(objects.some((o) => o.kind === 'StatefulSet')).toBe(false);
      expect(objects.some((o) => o.kind === 'Secret')).toBe(false); // created out of band, never committed
      expect((find(objects, 'Deployment', 'gateway').spec as Any).replicas).toBeGreaterThanOrEqual(3);
      expect((find(objects, 'Deployment', 'doc-service').spec as Any).replicas).toBeGreaterThanOrEqual(3);
      const so = find(objects, 'ScaledObject', 'history-worker') as Any;
      expect(so.spec.scaleTargetRef.name).toBe('history-worker');
      expect(so.spec.triggers[0].metadata.query).toContain('diaryx_queue_depth');
      expect(
        objects.some(
          (o) =>
            o.kind === 'HorizontalPodAutoscaler' && (o.spec as Any).scaleTargetRef.name === 'history-worker',
        ),
      ).toBe(false);
      expect((find(objects, 'ConfigMap', 'diaryx-config') as Any).data.S3_ENDPOINT).toMatch(/^https:\/\//);
      const readme = fs.readFileSync(path.join(ROOT, 'deploy/README.md'), 'utf8');
      for (const key of PROD_SECRET_KEYS) expect(readme).toContain(`--from-literal=${key}=`);
    });
  }
});

describe('the test kustomize assembler', () => {
  it('merges strategic patches by list key and applies JSON 6902 operations', () => {
    const target: Any = {
      spec: { replicas: 1, containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] }] },
    };
    strategicMerge(target, {
      spec: {
        containers: [
          { name: 'a', env: [{ name: 'B', value: '2' }] },
          { name: 'b', image: 'y' },
        ],
      },
    } as Any);
    expect(target.spec.containers).toEqual([
      {
        name: 'a',
        image: 'x',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
      { name: 'b', image: 'y' },
    ]);
    applyJson6902(target, [
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/spec/containers/-', value: { name: 'c' } },
      { op: 'remove', path: '/spec/containers/1' },
    ]);
    expect(target.spec.replicas).toBe(3);
    expect(target.spec.containers.map((c: Any) => c.name)).toEqual(['a', 'c']);
    expect(() => applyJson6902(target, [{ op: 'replace', path: '/spec/nope/x', value: 1 }])).toThrow(
      /does not exist/,
    );
  });

  it('rejects an invalid object and a manifest field it does not model (the checks can fail)', () => {
    const bad = kustomizeBuild(path.join(ROOT, 'deploy/k8s/overlays/dev')).find(
      (o) => o.kind === 'Deployment',
    ) as Any;
    bad.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => validateObject(bad)).toThrow(/containerPort/);
    const sm: Any = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'x' },
      spec: { selector: {}, endpoint: [] },
    };
    expect(() => validateObject(sm)).toThrow();
  });
});
