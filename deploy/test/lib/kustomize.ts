/**
 * A small, strict re-implementation of the part of `kustomize build` our manifests use, so the
 * tests can check exactly what `kubectl apply -k` would send (no kustomize binary on CI).
 *
 * Supported kustomization fields: `resources` (files and directories with a kustomization),
 * `components` (directories holding a `kind: Component` kustomization with `resources` and
 * `patches`, applied after the resources), `namespace`, `images`, `patches` (a file or inline
 * patch, strategic-merge or JSON 6902, with an optional `target`), `replicas`. Any other field throws, so a manifest change that relies on a
 * feature we do not model fails the tests instead of being silently ignored.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One Kubernetes object (loosely typed: validated later with kubernetes-models). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

interface PatchTarget {
  kind?: string;
  name?: string;
  namespace?: string;
  group?: string;
  version?: string;
}

interface PatchEntry {
  path?: string;
  patch?: string;
  target?: PatchTarget;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  components?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: PatchEntry[];
  replicas?: { name: string; count: number }[];
}

const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'components',
  'namespace',
  'images',
  'patches',
  'replicas',
]);

/** Kinds that are not namespaced (the namespace transformer leaves them alone). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
]);

/** Strategic-merge keys of the lists we patch (by field name); other lists are replaced. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
  tolerations: 'key',
};

/** Reads every YAML document of a file (empty documents skipped); throws on YAML errors. */
export function readYamlDocuments(file: string): unknown[] {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const out: unknown[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as unknown;
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

function readKustomization(dir: string): { file: string; k: Kustomization } {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((f) => path.join(dir, f))
    .find((f) => fs.existsSync(f));
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const [k] = readYamlDocuments(file) as Kustomization[];
  for (const field of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(field))
      throw new Error(`${file}: kustomization field '${field}' is not modelled by the test assembler`);
  }
  return { file, k };
}

function loadResources(dir: string, file: string, resources: string[]): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const res of resources) {
    const p = path.resolve(dir, res);
    if (!fs.existsSync(p)) throw new Error(`${file}: resource ${res} does not exist`);
    if (fs.statSync(p).isDirectory()) objects.push(...kustomizeBuild(p));
    else objects.push(...(readYamlDocuments(p) as K8sObject[]).map(checkObject(p)));
  }
  return objects;
}

/** `kustomize build <dir>`: the resulting objects, in resource order. */
export function kustomizeBuild(dir: string): K8sObject[] {
  const { file, k } = readKustomization(dir);
  if (k.kind === 'Component') throw new Error(`${file}: a Component is not built on its own`);
  let objects = loadResources(dir, file, k.resources ?? []);
  assertUnique(objects, file);

  for (const comp of k.components ?? []) {
    const compDir = path.resolve(dir, comp);
    const c = readKustomization(compDir);
    if (c.k.kind !== 'Component')
      throw new Error(`${c.file}: listed under components but its kind is ${String(c.k.kind)}`);
    for (const field of ['namespace', 'images', 'replicas', 'components'] as const)
      if (c.k[field] !== undefined) throw new Error(`${c.file}: '${field}' in a Component is not modelled`);
    objects.push(...loadResources(compDir, c.file, c.k.resources ?? []));
    assertUnique(objects, c.file);
    for (const entry of c.k.patches ?? []) objects = applyPatchEntry(objects, entry, compDir, c.file);
  }

  for (const entry of k.patches ?? []) objects = applyPatchEntry(objects, entry, dir, file);
  if (k.namespace) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  for (const img of k.images ?? []) for (const o of objects) rewriteImages(o, img);
  for (const r of k.replicas ?? []) {
    const hits = objects.filter(
      (o) => o.metadata.name === r.name && ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind),
    );
    if (hits.length === 0) throw new Error(`${file}: replicas target ${r.name} not found`);
    for (const o of hits) (o.spec as JsonObject).replicas = r.count;
  }
  return objects;
}

function checkObject(file: string) {
  return (value: K8sObject): K8sObject => {
    if (
      !value ||
      typeof value !== 'object' ||
      typeof value.apiVersion !== 'string' ||
      typeof value.kind !== 'string' ||
      !value.metadata?.name
    ) {
      throw new Error(`${file}: every document needs apiVersion, kind and metadata.name`);
    }
    return value;
  };
}

function idOf(o: K8sObject): string {
  return `${o.apiVersion.split('/').length > 1 ? o.apiVersion.split('/')[0] : ''}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function assertUnique(objects: K8sObject[], file: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = idOf(o);
    if (seen.has(id)) throw new Error(`${file}: duplicate resource ${id}`);
    seen.add(id);
  }
}

function matchesTarget(o: K8sObject, t: PatchTarget): boolean {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  return (
    (t.kind === undefined || t.kind === o.kind) &&
    (t.name === undefined || new RegExp(`^${t.name}$`).test(o.metadata.name)) &&
    (t.namespace === undefined || t.namespace === o.metadata.namespace) &&
    (t.group === undefined || t.group === group) &&
    (t.version === undefined || t.version === version)
  );
}

function applyPatchEntry(objects: K8sObject[], entry: PatchEntry, dir: string, file: string): K8sObject[] {
  if ((entry.path === undefined) === (entry.patch === undefined))
    throw new Error(`${file}: a patch needs exactly one of path/patch`);
  const text =
    entry.path !== undefined
      ? fs.readFileSync(path.resolve(dir, entry.path), 'utf8')
      : (entry.patch as string);
  const docs = parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null && d !== undefined);
  const isJson6902 = docs.length === 1 && Array.isArray(docs[0]);
  if (isJson6902) {
    if (!entry.target) throw new Error(`${file}: a JSON 6902 patch needs a target`);
    const hits = objects.filter((o) => matchesTarget(o, entry.target as PatchTarget));
    if (hits.length === 0)
      throw new Error(`${file}: patch target ${JSON.stringify(entry.target)} matches nothing`);
    for (const o of hits) applyJson6902(o as unknown as JsonObject, docs[0] as Json6902Op[], file);
    return objects;
  }
  let out = objects;
  for (const patch of docs as K8sObject[]) {
    const target: PatchTarget = entry.target ?? { kind: patch.kind, name: patch.metadata?.name };
    const hits = out.filter((o) => matchesTarget(o, target));
    if (hits.length === 0)
      throw new Error(`${file}: strategic-merge patch for ${target.kind}/${target.name} matches nothing`);
    const { metadata: _m, apiVersion: _a, kind: _k, ...body } = patch;
    void _m;
    void _a;
    void _k;
    if ((patch as unknown as JsonObject).$patch === 'delete') {
      out = out.filter((o) => !hits.includes(o));
      continue;
    }
    for (const o of hits) {
      strategicMerge(o as unknown as JsonObject, body as unknown as JsonObject);
      const meta = patch.metadata ?? { name: '' };
      if (meta.labels) o.metadata.labels = { ...o.metadata.labels, ...meta.labels };
      if (meta.annotations) o.metadata.annotations = { ...o.metadata.annotations, ...meta.annotations };
    }
  }
  return out;
}

/** Strategic merge: maps merge recursively, known lists merge by key, other values replace. */
export function strategicMerge(target: JsonObject, patch: JsonObject): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete target[key];
      continue;
    }
    const current = target[key];
    if (Array.isArray(value) && Array.isArray(current) && MERGE_KEYS[key]) {
      const mk = MERGE_KEYS[key];
      for (const item of value) {
        const obj = item as JsonObject;
        const idx = current.findIndex((c) => (c as JsonObject)[mk] === obj[mk]);
        if (obj.$patch === 'delete') {
          if (idx >= 0) current.splice(idx, 1);
        } else if (idx >= 0) strategicMerge(current[idx] as JsonObject, obj);
        else current.push(obj);
      }
    } else if (isPlainObject(value) && isPlainObject(current)) {
      strategicMerge(current, value);
    } else {
      target[key] = structuredClone(value);
    }
  }
}

function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Json6902Op {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: Json;
}

/** RFC 6902 add/replace/remove/test on `doc`; throws on a path that does not exist. */
export function applyJson6902(doc: JsonObject, ops: Json6902Op[], file = 'patch'): void {
  for (const op of ops) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    if (last === undefined) throw new Error(`${file}: empty patch path`);
    let parent: Json = doc;
    for (const p of parts) {
      const next: Json | undefined = Array.isArray(parent)
        ? parent[Number(p)]
        : isPlainObject(parent)
          ? parent[p]
          : undefined;
      if (next === undefined) throw new Error(`${file}: ${op.op} ${op.path}: '${p}' does not exist`);
      parent = next;
    }
    if (Array.isArray(parent)) {
      const idx = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(idx, 0, structuredClone(op.value as Json));
      else if (idx >= parent.length) throw new Error(`${file}: ${op.op} ${op.path}: index out of range`);
      else if (op.op === 'replace') parent[idx] = structuredClone(op.value as Json);
      else if (op.op === 'remove') parent.splice(idx, 1);
      else if (JSON.stringify(parent[idx]) !== JSON.stringify(op.value))
        throw new Error(`${file}: test ${op.path} failed`);
    } else if (isPlainObject(parent)) {
      if (op.op !== 'add' && !(last in parent))
        throw new Error(`${file}: ${op.op} ${op.path}: '${last}' does not exist`);
      if (op.op === 'add' || op.op === 'replace') parent[last] = structuredClone(op.value as Json);
      else if (op.op === 'remove') delete parent[last];
      else if (JSON.stringify(parent[last]) !== JSON.stringify(op.value))
        throw new Error(`${file}: test ${op.path} failed`);
    } else {
      throw new Error(`${file}: ${op.op} ${op.path}: parent is not a container`);
    }
  }
}

/** The pod spec of a workload (Deployment, StatefulSet, Job, DaemonSet, Pod), if any. */
export function podSpecOf(o: K8sObject): JsonObject | undefined {
  const spec = o.spec as JsonObject | undefined;
  if (!spec) return undefined;
  if (o.kind === 'Pod') return spec;
  const template = spec.template as JsonObject | undefined;
  return template?.spec as JsonObject | undefined;
}

/** Labels of the pods a workload creates. */
export function podLabelsOf(o: K8sObject): Record<string, string> {
  if (o.kind === 'Pod') return o.metadata.labels ?? {};
  const template = (o.spec as JsonObject | undefined)?.template as JsonObject | undefined;
  return ((template?.metadata as JsonObject | undefined)?.labels as Record<string, string>) ?? {};
}

function rewriteImages(
  o: K8sObject,
  img: { name: string; newName?: string; newTag?: string; digest?: string },
): void {
  const pod = podSpecOf(o);
  if (!pod) return;
  for (const list of ['containers', 'initContainers']) {
    for (const c of (pod[list] as JsonObject[] | undefined) ?? []) {
      const image = String(c.image);
      const name = image.replace(/@.*$/, '').replace(/:[^:/]+$/, '');
      if (name !== img.name) continue;
      const tag = image.slice(name.length);
      const newName = img.newName ?? name;
      c.image = img.digest
        ? `${newName}@${img.digest}`
        : img.newTag
          ? `${newName}:${img.newTag}`
          : `${newName}${tag}`;
    }
  }
}
