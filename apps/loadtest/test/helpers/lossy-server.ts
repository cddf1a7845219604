/**
 * A deliberately broken y-websocket-style server for tests: it keeps one Y.Doc per URL path,
 * answers SyncStep1, and applies and relays updates — except every `dropEvery`-th update, which
 * it silently drops. A load test against it must report loss and fail.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocketServer, type WebSocket } from 'ws';
import * as Y from 'yjs';

export interface LossyServer {
  port: number;
  dropped(): number;
  close(): Promise<void>;
}

export async function startLossyServer(dropEvery: number): Promise<LossyServer> {
  const docs = new Map<string, { doc: Y.Doc; conns: Set<WebSocket> }>();
  let updates = 0;
  let dropped = 0;
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0].slice(1));
    let entry = docs.get(name);
    if (!entry) docs.set(name, (entry = { doc: new Y.Doc(), conns: new Set() }));
    const { doc, conns } = entry;
    conns.add(ws);
    ws.on('close', () => conns.delete(ws));
    ws.on('message', (data: Buffer) => {
      const d = decoding.createDecoder(new Uint8Array(data));
      if (decoding.readVarUint(d) !== 0) return;
      const subtype = decoding.readVarUint(d);
      const payload = decoding.readVarUint8Array(d);
      if (subtype === 0) {
        const e = encoding.createEncoder();
        encoding.writeVarUint(e, 0);
        encoding.writeVarUint(e, 1);
        encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(doc, payload));
        ws.send(encoding.toUint8Array(e));
        return;
      }
      if (subtype === 2 && ++updates % dropEvery === 0) {
        dropped++;
        return;
      }
      Y.applyUpdate(doc, payload);
      if (subtype === 2) for (const c of conns) if (c !== ws) c.send(data);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    dropped: () => dropped,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => server.close(() => resolve())));
    },
  };
}
