/**
 * One editor must not be able to take a gateway down with uploads (docs/protocol.md#limits):
 * parallel zip imports holding a huge number of tiny entries, against a real gateway process.
 * The gateway answers each at once (400 `too_many_files` from the zip's end record, or 429
 * `too_many_imports`), stays up, its memory stays bounded (VmHWM from /proc), and a client of
 * another tenant keeps saving throughout.
 *
 * Default size: 3 zips × 100,000 entries (~10 MB each; every limit is exceeded five times). The
 * attack as first measured (3 × 43 MB × 500,000 entries, which took the old gateway to 4.46 GB):
 *   UPLOAD_ATTACK_ENTRIES=500000 npx jest apps/gateway/test/cluster-hostile-uploads --selectProjects gateway
 * (`UPLOAD_ATTACK_ZIPS` changes the number of parallel uploads.)
 */
import { readFileSync } from 'node:fs';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import { startCluster, Sync2TestClient, type TestCluster } from './helpers/cluster';

const ENTRIES = Number(process.env.UPLOAD_ATTACK_ENTRIES ?? 100_000);
const ZIPS = Number(process.env.UPLOAD_ATTACK_ZIPS ?? 3);
/** Allowed growth of the gateway's peak RSS over its RSS before the attack. */
const RSS_BUDGET_BYTES = 150 * 1024 * 1024;

/** A stored zip of `count` one-byte markdown files (`f0.md`, `f1.md`, …), built without deflate. */
function zipOfTinyEntries(count: number): Buffer {
  const CRC_OF_X = 0x8cdc1683; // crc32("x")
  const names = Array.from({ length: count }, (_, i) => Buffer.from(`f${i}.md`));
  const nameBytes = names.reduce((n, b) => n + b.length, 0);
  const localSize = 31 * count + nameBytes; // 30-byte header + name + 1 byte of data
  const centralSize = 46 * count + nameBytes;
  const out = Buffer.alloc(localSize + centralSize + 22);
  let at = 0;
  const offsets: number[] = [];
  for (const name of names) {
    offsets.push(at);
    out.writeUInt32LE(0x04034b50, at);
    out.writeUInt16LE(10, at + 4);
    out.writeUInt32LE(CRC_OF_X, at + 14);
    out.writeUInt32LE(1, at + 18);
    out.writeUInt32LE(1, at + 22);
    out.writeUInt16LE(name.length, at + 26);
    name.copy(out, at + 30);
    out[at + 30 + name.length] = 0x78;
    at += 31 + name.length;
  }
  names.forEach((name, i) => {
    out.writeUInt32LE(0x02014b50, at);
    out.writeUInt16LE(20, at + 4);
    out.writeUInt16LE(10, at + 6);
    out.writeUInt32LE(CRC_OF_X, at + 16);
    out.writeUInt32LE(1, at + 20);
    out.writeUInt32LE(1, at + 24);
    out.writeUInt16LE(name.length, at + 28);
    out.writeUInt32LE(offsets[i]!, at + 42);
    name.copy(out, at + 46);
    at += 46 + name.length;
  });
  // More than 65,535 entries need the ZIP64 end records (real count), then the classic one.
  const zip64 = count > 0xffff;
  const tail = out.subarray(at);
  if (zip64) {
    const z = Buffer.alloc(56 + 20);
    z.writeUInt32LE(0x06064b50, 0);
    z.writeBigUInt64LE(44n, 4);
    z.writeUInt16LE(45, 12);
    z.writeUInt16LE(45, 14);
    z.writeBigUInt64LE(BigInt(count), 24);
    z.writeBigUInt64LE(BigInt(count), 32);
    z.writeBigUInt64LE(BigInt(centralSize), 40);
    z.writeBigUInt64LE(BigInt(localSize), 48);
    z.writeUInt32LE(0x07064b50, 56);
    z.writeBigUInt64LE(BigInt(at), 64);
    z.writeUInt32LE(1, 72);
    tail.writeUInt32LE(0x06054b50, 0);
    tail.writeUInt16LE(0xffff, 8);
    tail.writeUInt16LE(0xffff, 10);
    tail.writeUInt32LE(centralSize, 12);
    tail.writeUInt32LE(localSize, 16);
    return Buffer.concat([out.subarray(0, at), z, tail]);
  }
  tail.writeUInt32LE(0x06054b50, 0);
  tail.writeUInt16LE(count, 8);
  tail.writeUInt16LE(count, 10);
  tail.writeUInt32LE(centralSize, 12);
  tail.writeUInt32LE(localSize, 16);
  return out;
}

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} for ${pid}`);
  return Number(m[1]) * 1024;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

describe('hostile uploads against a real gateway', () => {
  let s3: EmbeddedS3;
  let cluster: TestCluster;

  beforeAll(async () => {
    s3 = await startEmbeddedS3({ port: 0 });
    cluster = await startCluster({ docServices: 1, env: { S3_ENDPOINT: s3.endpoint } });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await s3?.stop();
  });

  it('parallel imports of zips with huge entry counts: refused at once, gateway up, RSS bounded, others keep syncing', async () => {
    const attacker = await cluster.createTenant('attacker');
    await cluster.createWorkspace(attacker, 'big');
    const editor = await cluster.token({ tid: attacker.id, ws: ['big'], role: 'editor' });
    const victimTenant = await cluster.createTenant('victim');
    await cluster.createWorkspace(victimTenant, 'notes');
    const victimToken = await cluster.token({ tid: victimTenant.id, ws: ['notes'], role: 'editor' });
    // Three more tenants, each with a workspace, so that a round of imports reaches the
    // per-gateway limit rather than the per-tenant one.
    const others: string[] = [];
    for (let i = 0; i < ZIPS; i++) {
      const t = await cluster.createTenant(`other-${i}`);
      await cluster.createWorkspace(t, 'big');
      others.push(await cluster.token({ tid: t.id, ws: ['big'], role: 'editor' }));
    }

    const zips = Array.from({ length: ZIPS }, () => zipOfTinyEntries(ENTRIES));
    const victim = await Sync2TestClient.connect(cluster.ws(), victimToken);
    const docId = 'body:notes/diary.md';
    const doc = await victim.openSynced(docId);
    let victimClosed = false;
    void victim.closed.then(() => (victimClosed = true));

    const pid = cluster.gateways[0]!.pid!;
    const rssBefore = procStatus(pid, 'VmRSS');
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      try {
        rssPeak = Math.max(rssPeak, procStatus(pid, 'VmRSS'));
      } catch {
        // process gone: the assertions below report it
      }
    }, 50);

    // The victim writes and saves continuously while the uploads run.
    const saveMs: number[] = [];
    let attackDone = false;
    const victimLoop = (async () => {
      let n = 0;
      while (!attackDone || n < 5) {
        doc.getText('body').insert(doc.getText('body').length, `line ${n}\n`);
        const t0 = performance.now();
        await victim.save(docId, 20_000);
        saveMs.push(performance.now() - t0);
        n += 1;
      }
      return n;
    })();

    const post = (token: string, body: Buffer) =>
      fetch(`${cluster.http()}/api/workspaces/big/snapshot?mode=replace`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/zip' },
        body,
      }).then(async (res) => ({
        status: res.status,
        code: ((await res.json()) as { error?: { code: string } }).error?.code,
        retryAfter: res.headers.get('retry-after'),
      }));

    const t0 = performance.now();
    // Round 1: the attack as reported — one editor, parallel uploads.
    const sameEditor = await Promise.all(zips.map((z) => post(editor, z)));
    // Round 2: the same zips from different tenants at once (per-gateway limit).
    const manyTenants = await Promise.all(zips.map((z, i) => post(others[i]!, z)));
    const attackMs = performance.now() - t0;
    attackDone = true;
    const saves = await victimLoop;
    clearInterval(sampler);

    const hwm = procStatus(pid, 'VmHWM');
    const rssAfter = procStatus(pid, 'VmRSS');
    const sorted = [...saveMs].sort((a, b) => a - b);
    process.stdout.write(
      `hostile uploads: ${ZIPS} zips × ${ENTRIES} entries (${mib(zips[0]!.length)} each) in ${attackMs.toFixed(0)} ms; ` +
        `gateway RSS before ${mib(rssBefore)}, sampled peak ${mib(rssPeak)}, VmHWM ${mib(hwm)}, after ${mib(rssAfter)}; ` +
        `victim ${saves} saves, p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms\n` +
        `round 1 ${JSON.stringify(sameEditor)}\nround 2 ${JSON.stringify(manyTenants)}\n`,
    );

    // Every upload was answered: refused for its entry count, or for the import limits.
    for (const r of [...sameEditor, ...manyTenants]) {
      expect([400, 429]).toContain(r.status);
      if (r.status === 400) expect(r.code).toBe('too_many_files');
      else
        expect({ code: r.code, retryAfter: r.retryAfter }).toEqual({
          code: 'too_many_imports',
          retryAfter: '5',
        });
    }
    expect(sameEditor.filter((r) => r.status === 400)).toHaveLength(1); // one import per tenant
    expect(sameEditor.filter((r) => r.status === 429)).toHaveLength(ZIPS - 1);
    expect(manyTenants.filter((r) => r.status === 400).length).toBeGreaterThanOrEqual(Math.min(ZIPS, 2) - 1);

    // The gateway is up, its memory bounded, and the victim kept syncing on the same socket.
    expect(cluster.gateways[0]!.running).toBe(true);
    expect((await fetch(`${cluster.http()}/healthz`)).status).toBe(200);
    expect(rssPeak - rssBefore).toBeLessThan(RSS_BUDGET_BYTES);
    expect(hwm).toBeLessThan(rssBefore + RSS_BUDGET_BYTES);
    expect(victimClosed).toBe(false);
    expect(saves).toBeGreaterThanOrEqual(5);
    const check = await Sync2TestClient.connect(cluster.ws(), victimToken);
    const fresh = await check.openSynced(docId);
    expect(fresh.getText('body').toString()).toBe(doc.getText('body').toString());
    check.close();
    victim.close();
  }, 240_000);
});
