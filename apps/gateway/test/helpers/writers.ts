/**
 * Writers for the durability tests (cluster failover, Redis Cluster failover and slot
 * migration): clients append numbered markers to body docs and remember which ones a `save`
 * acknowledged, so a test can check that no acknowledged update is lost.
 */
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import * as Y from 'yjs';
import { sleep, waitUntil, type Sync2TestClient, type TestCluster } from './cluster';

/** The body text of `docId` as stored in PostgreSQL for `tenant`. */
export async function persistedText(cluster: TestCluster, tenant: string, docId: string): Promise<string> {
  const state = await new PostgresStorage({ pool: cluster.pool, tenant }).loadDoc(docId);
  const doc = new Y.Doc();
  if (state) Y.applyUpdate(doc, state);
  return doc.getText('body').toString();
}

/** Appends numbered markers to one doc; remembers which ones a `save` confirmed. */
export class Writer {
  next = 0;
  acknowledged: string[] = [];
  private pendingSinceSave: string[] = [];
  constructor(
    readonly client: Sync2TestClient,
    readonly doc: Y.Doc,
    readonly docId: string,
    readonly name: string,
  ) {}

  /** Appends the next marker (nothing while the socket is not open). */
  write(): void {
    if (this.client.ws.readyState !== 1) return;
    const marker = `[${this.name}-${this.next++}]`;
    this.doc.getText('body').insert(this.doc.getText('body').length, marker);
    this.pendingSinceSave.push(marker);
  }

  /** Saves; on success every marker written before is acknowledged (durable). */
  async save(): Promise<void> {
    const batch = this.pendingSinceSave;
    this.pendingSinceSave = [];
    try {
      await this.client.save(this.docId, 30_000);
      this.acknowledged.push(...batch);
    } catch {
      this.pendingSinceSave.unshift(...batch);
    }
  }
}

/**
 * Starts every writer writing every 50 ms and saving every fifth round; the returned function
 * stops them and resolves once the last round is over.
 */
export function keepWriting(writers: Writer[]): () => Promise<void> {
  let writing = true;
  const loop = (async () => {
    let round = 0;
    while (writing) {
      for (const w of writers) w.write();
      if (++round % 5 === 0) await Promise.all(writers.map((w) => w.save()));
      await sleep(50);
    }
  })();
  return async () => {
    writing = false;
    await loop;
  };
}

/** Saves each writer until everything it wrote is acknowledged. */
export async function saveUntilAcknowledged(writers: Writer[]): Promise<void> {
  for (const w of writers) {
    await waitUntil(
      async () => {
        await w.save();
        return w.acknowledged.length === w.next;
      },
      40_000,
      `final save of ${w.name}`,
    );
  }
}
