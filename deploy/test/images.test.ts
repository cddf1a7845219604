/**
 * Every image reference is pinned: compose services, both Kubernetes overlays (containers and init
 * containers), every Dockerfile stage and the GitHub workflows (container images and actions).
 * No `latest`, no missing tag; MinIO comes from quay.io (Docker Hub's minio/* repositories are gone).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './lib/apps';
import { loadCompose } from './lib/compose';
import { parseDockerfile } from './lib/dockerfile';
import { kustomizeBuild, podSpecOf } from './lib/kustomize';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML trees */
type Any = any;

/** Why `ref` is not pinned, or undefined when it is (`name:tag` with a versioned tag, or a digest). */
export function unpinnedReason(ref: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return undefined;
  const m = /^(.+?)(?::([^:/]+))?$/.exec(ref);
  const tag = m?.[2];
  if (!tag) return 'no tag';
  if (/^(latest|stable|edge|main|master|nightly)$/i.test(tag)) return `floating tag ${tag}`;
  return undefined;
}

function composeImages(): string[] {
  const c = loadCompose(path.join(ROOT, 'docker-compose.yml'), { JWT_SECRET: 'x', ADMIN_TOKEN: 'y' });
  return Object.values(c.services)
    .map((s) => s.image)
    .filter((i): i is string => typeof i === 'string');
}

function k8sImages(overlay: string): string[] {
  return kustomizeBuild(path.join(ROOT, 'deploy/k8s/overlays', overlay)).flatMap((o) => {
    const spec = podSpecOf(o) as Any;
    return spec ? [...spec.containers, ...(spec.initContainers ?? [])].map((c: Any) => String(c.image)) : [];
  });
}

const WORKFLOWS = path.join(ROOT, '.github/workflows');
const workflowFiles = fs.existsSync(WORKFLOWS)
  ? fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f))
  : [];

describe('image pinning', () => {
  it('the rule rejects latest and untagged references (the check can fail)', () => {
    expect(unpinnedReason('minio/minio:latest')).toBe('floating tag latest');
    expect(unpinnedReason('redis')).toBe('no tag');
    expect(unpinnedReason('localhost:5000/x')).toBe('no tag');
    expect(unpinnedReason('quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z')).toBeUndefined();
    expect(unpinnedReason(`x@sha256:${'a'.repeat(64)}`)).toBeUndefined();
  });

  it('docker-compose.yml pins every image; MinIO from quay.io', () => {
    const images = composeImages();
    expect(images.length).toBeGreaterThan(5);
    expect(images.filter((i) => unpinnedReason(i))).toEqual([]);
    const minio = images.filter((i) => /minio/.test(i));
    expect(minio.sort()).toEqual([
      expect.stringMatching(/^quay\.io\/minio\/mc:RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$/),
      expect.stringMatching(/^quay\.io\/minio\/minio:RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$/),
    ]);
  });

  it.each(['dev', 'prod'])(
    'Kubernetes overlay %s pins every container and init container image',
    (overlay) => {
      const images = k8sImages(overlay);
      expect(images.length).toBeGreaterThan(3);
      expect(images.filter((i) => unpinnedReason(i))).toEqual([]);
      for (const i of images.filter((x) => /minio/.test(x))) expect(i).toMatch(/^quay\.io\/minio\//);
      // Compose and the dev overlay run the same third-party releases.
      if (overlay === 'dev') {
        const compose = new Set(composeImages());
        for (const i of images.filter((x) => /^(quay\.io\/minio|postgres|redis)/.test(x)))
          expect([i, compose.has(i)]).toEqual([i, true]);
      }
    },
  );

  it('the Dockerfile builds every stage on a pinned, supported Node.js LTS (22 or 24)', () => {
    const { stages } = parseDockerfile(path.join(ROOT, 'Dockerfile'));
    for (const s of stages) {
      expect(unpinnedReason(s.image)).toBeUndefined();
      expect(s.image).toMatch(/^node:(22|24)\.\d+\.\d+-[a-z]+-slim$/);
    }
  });

  it('workflows: the image workflow builds multi-arch on every push and pushes on version tags; actions and images pinned', () => {
    expect(workflowFiles).toContain('image.yml');
    for (const f of workflowFiles) {
      const wf = parse(fs.readFileSync(path.join(WORKFLOWS, f), 'utf8')) as Any;
      for (const job of Object.values(wf.jobs) as Any[]) {
        if (job.container)
          expect(unpinnedReason(String(job.container.image ?? job.container))).toBeUndefined();
        for (const step of job.steps ?? []) {
          if (step.uses) expect([f, step.uses]).toEqual([f, expect.stringMatching(/^[\w.-]+\/[\w.-]+@v\d+/)]);
          if (typeof step.uses === 'string' && step.uses.startsWith('docker://'))
            expect(unpinnedReason(step.uses.slice('docker://'.length))).toBeUndefined();
        }
      }
    }
    const wf = parse(fs.readFileSync(path.join(WORKFLOWS, 'image.yml'), 'utf8')) as Any;
    const on = wf.on ?? wf[true as unknown as string];
    expect(on.push.branches).toEqual(['**']);
    expect(on.push.tags).toEqual(['v*.*.*']);
    const steps = Object.values(wf.jobs).flatMap((j: Any) => j.steps) as Any[];
    const build = steps.find((s) => String(s.uses).startsWith('docker/build-push-action@'));
    expect(build.with.platforms).toBe('linux/amd64,linux/arm64');
    expect(build.with.push).toBe("${{ startsWith(github.ref, 'refs/tags/v') }}");
    const meta = steps.find((s) => String(s.uses).startsWith('docker/metadata-action@'));
    expect(meta.with.flavor).toBe('latest=false');
    // The pushed name is the one the prod overlay pins (ghcr.io/<owner>/diaryx-sync).
    expect(wf.env.IMAGE).toBe('ghcr.io/${{ github.repository_owner }}/diaryx-sync');
    const prod = k8sImages('prod').find((i) => i.includes('diaryx-sync')) as string;
    expect(prod).toMatch(/^ghcr\.io\/[\w-]+\/diaryx-sync:\d+\.\d+\.\d+$/);
  });

  it('`npm run image` builds the image locally and deploy/README.md documents it', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Any;
    expect(pkg.scripts.image).toMatch(/^docker build -t \S+ \.$/);
    expect(fs.readFileSync(path.join(ROOT, 'deploy/README.md'), 'utf8')).toContain('npm run image');
  });
});
