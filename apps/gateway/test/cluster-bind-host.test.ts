/**
 * Every service binds `BIND_HOST`, loopback by default (so `npm start` exposes nothing to the
 * network), all interfaces when configured (the container image sets `0.0.0.0`). Checked on the
 * real processes from the kernel's table of listening sockets (/proc/net/tcp).
 */
import { readFileSync } from 'node:fs';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import { freePort, ServiceProcess, startCluster, type TestCluster } from './helpers/cluster';

/** Local IPv4 addresses of the sockets listening on `port` (e.g. `127.0.0.1`, `0.0.0.0`). */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // 0A = LISTEN
      const [addr, p] = cols[1]!.split(':');
      if (p !== hexPort) continue;
      if (addr!.length === 8) {
        const bytes = addr!
          .match(/../g)!
          .map((h) => parseInt(h, 16))
          .reverse();
        out.push(bytes.join('.'));
      } else out.push(addr === '0'.repeat(32) ? '::' : `v6:${addr}`);
    }
  }
  return out.sort();
}

describe('listening interfaces', () => {
  let s3: EmbeddedS3;
  let cluster: TestCluster;
  const extra: ServiceProcess[] = [];

  beforeAll(async () => {
    s3 = await startEmbeddedS3({ port: 0 });
    const env = { S3_ENDPOINT: s3.endpoint };
    cluster = await startCluster({ docServices: 1, env });
    expect(cluster.env.BIND_HOST).toBeUndefined();
  }, 90_000);

  afterAll(async () => {
    for (const p of extra) await p.stop();
    await cluster?.stop();
    await s3?.stop();
  });

  it('binds loopback only by default: gateway, doc service and history worker', async () => {
    const worker = await cluster.historyWorker();
    extra.push(worker);
    await worker.start();
    for (const p of [cluster.gateways[0]!, cluster.docServices[0]!, worker]) {
      expect([p.name, listeningAddresses(p.port)]).toEqual([p.name, ['127.0.0.1']]);
    }
  });

  it('binds every interface with BIND_HOST=0.0.0.0 (as in the container image)', async () => {
    const base = cluster.docServices[0]!;
    const port = await freePort();
    const open = new ServiceProcess(
      'doc-service-all-interfaces',
      base.main,
      port,
      {
        ...base.env,
        PORT: String(port),
        DOC_SERVICE_ID: `${base.env.DOC_SERVICE_ID}-all`,
        BIND_HOST: '0.0.0.0',
      },
      `${base.logFile}.all`,
    );
    extra.push(open);
    await open.start();
    expect(listeningAddresses(port)).toEqual(['0.0.0.0']);
  });
});
