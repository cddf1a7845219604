#!/usr/bin/env node
/**
 * Connect-storm micro-benchmark against a running cluster (e.g. `npm start`): opens N `/sync2`
 * sockets with C in flight, each sends a SyncStep1 for one doc and waits for the SyncStep2, and
 * prints connect → open and open → synced percentiles and connects per second. The client is as
 * light as it gets (no Y.Doc per socket), so the server, not the load generator, sets the pace
 * (docs/benchmarks.md, profiles).
 *
 *   node scripts/bench-connect.js <token> [N=1000] [C=50] [ws base=ws://127.0.0.1:8080] [doc=body:demo/README.md]
 */
const WebSocket = require('ws');
const Y = require('yjs');
const { encodeFrame, encodeMessage, decodeFrame, decodeMessages } = require('@diaryx-sync/protocol');

const [token, nArg, cArg, base = 'ws://127.0.0.1:8080', doc = 'body:demo/README.md'] = process.argv.slice(2);
if (!token) {
  console.error('usage: node scripts/bench-connect.js <token> [N] [C] [ws base] [doc id]');
  process.exit(2);
}
const N = Number(nArg ?? 1000);
const C = Number(cArg ?? 50);
const stateVector = Y.encodeStateVector(new Y.Doc());
const sockets = [];

async function connectOnce() {
  const t0 = performance.now();
  const ws = new WebSocket(`${base}/sync2?token=${encodeURIComponent(token)}`, { perMessageDeflate: false });
  sockets.push(ws);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const t1 = performance.now();
  ws.send(encodeFrame(doc, encodeMessage({ type: 'syncStep1', stateVector })));
  await new Promise((resolve) =>
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      for (const m of decodeMessages(decodeFrame(new Uint8Array(data)).payload, 'sync2'))
        if (m.type === 'syncStep2') resolve();
    }),
  );
  return { open: t1 - t0, sync: performance.now() - t1 };
}

(async () => {
  const results = [];
  let next = 0;
  const lane = async () => {
    while (next < N) {
      next++;
      results.push(await connectOnce());
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: C }, lane));
  const seconds = (performance.now() - started) / 1000;
  const pct = (values, q) => values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))].toFixed(1);
  const total = results.map((r) => r.open + r.sync);
  console.log(
    `${N} connects, ${C} in flight: connect → synced p50 ${pct(total, 0.5)} ms, p99 ${pct(total, 0.99)} ms; ` +
      `open p50 ${pct(results.map((r) => r.open), 0.5)} ms; open → synced p50 ${pct(results.map((r) => r.sync), 0.5)} ms; ` +
      `${(N / seconds).toFixed(0)} connects/s`,
  );
  for (const ws of sockets) ws.terminate();
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
