/**
 * The y-websocket reference server (`@y/websocket-server` 0.1.1, the last release on yjs 13) as a
 * peer of `npm run bench:peers`: one process on 127.0.0.1:$PORT, doc name from the URL path.
 * Persistence: the merged doc state is kept in this process's memory when the last client leaves
 * (the server then unloads the doc) and applied again on the next load, so `coldload` measures
 * a load from a store rather than from RAM.
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';
import * as Y from 'yjs';
import { setPersistence, setupWSConnection } from '@y/websocket-server/utils';

const store = new Map<string, Uint8Array>();
setPersistence({
  provider: store,
  bindState: (docName: string, doc: Y.Doc) => {
    const state = store.get(docName);
    if (state) Y.applyUpdate(doc, state);
  },
  writeState: async (docName: string, doc: Y.Doc) => {
    store.set(docName, Y.encodeStateAsUpdate(doc));
  },
});

const port = Number(process.env.PORT ?? 1234);
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('okay');
});
wss.on('connection', (ws, req) =>
  setupWSConnection(ws, req, { docName: decodeURIComponent((req.url ?? '/').slice(1).split('?')[0]) }),
);
server.on('upgrade', (req, socket, head) =>
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)),
);
server.listen(port, '127.0.0.1', () => process.stdout.write(`y-websocket listening on ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
