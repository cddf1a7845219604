/**
 * Hocuspocus (`@hocuspocus/server` 3.4.4, the last release that runs on Node 20) as a peer of
 * `npm run bench:peers`: one process on 127.0.0.1:$PORT; with $REDIS_URL it also loads
 * `@hocuspocus/extension-redis` (prefix $REDIS_PREFIX) so that several processes serve the same
 * docs. Persistence: `onStoreDocument` keeps the merged doc state in this process's memory
 * (Hocuspocus stores on a debounce and when the last client leaves, then unloads the doc);
 * `onLoadDocument` applies it again.
 */
import { Server, type Extension } from '@hocuspocus/server';
import { Redis } from '@hocuspocus/extension-redis';
import * as Y from 'yjs';

const store = new Map<string, Uint8Array>();
const port = Number(process.env.PORT ?? 1234);
const extensions: Extension[] = [];
if (process.env.REDIS_URL) {
  const url = new URL(process.env.REDIS_URL);
  extensions.push(
    new Redis({
      host: url.hostname,
      port: Number(url.port || 6379),
      prefix: process.env.REDIS_PREFIX ?? 'hocuspocus',
    }),
  );
}

const server = new Server({
  port,
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: true,
  extensions,
  async onLoadDocument({ document, documentName }) {
    const state = store.get(documentName);
    if (state) Y.applyUpdate(document, state);
    return document;
  },
  async onStoreDocument({ document, documentName }) {
    store.set(documentName, Y.encodeStateAsUpdate(document));
  },
});
void server.listen().then(() => process.stdout.write(`hocuspocus listening on ${port}\n`));
