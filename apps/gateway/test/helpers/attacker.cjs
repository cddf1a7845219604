/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script run by node */
/**
 * A hostile client in its own process (so its CPU does not skew the victim's measurements in the
 * test process), for `cluster-tenant-isolation.test.ts`. Config in env ATTACK (JSON):
 * `{ mode: 'far-future' | 'focus-flood', url, token, perSecond?, viewers? }`. Runs until SIGTERM,
 * then prints a JSON summary line (`sent`, `closes: [{code, reason}]`, `texts: [..]`) and exits.
 */
const WebSocket = require('ws');
const Y = require('yjs');
const { encodeFrame, encodeMessage } = require('@diaryx-sync/protocol');

const cfg = JSON.parse(process.env.ATTACK);
const closes = [];
const errors = [];
let sent = 0;
let running = true;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${cfg.url}/sync2?token=${encodeURIComponent(cfg.token)}`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closedOf(ws) {
  return new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
}

async function farFuture() {
  while (running) {
    const ws = await open().catch(() => null);
    if (!ws) {
      await sleep(100);
      continue;
    }
    let isClosed = false;
    const closed = closedOf(ws).then((c) => {
      isClosed = true;
      closes.push(c);
    });
    const src = new Y.Doc();
    src.clientID = Math.floor(Math.random() * 2 ** 30);
    const text = src.getText('body');
    text.insert(0, 'a'.repeat(100_000)); // never sent: every later update misses it
    while (running && !isClosed) {
      const sv = Y.encodeStateVector(src);
      text.insert(text.length, 'z');
      ws.send(
        encodeFrame(
          'body:a/attack.md',
          encodeMessage({ type: 'update', update: Y.encodeStateAsUpdate(src, sv) }),
        ),
      );
      sent++;
      await sleep(1000 / cfg.perSecond);
    }
    if (!isClosed) ws.close();
    await closed;
  }
}

async function focusFlood() {
  const path = (v, i) => `body:a/d${v}/${'p'.repeat(150)}${i}.md`;
  const many = (v, n, from = 0) => Array.from({ length: n }, (_, i) => path(v, from + i));
  const viewers = await Promise.all(Array.from({ length: cfg.viewers }, () => open()));
  const texts = viewers.map(() => []);
  viewers.forEach((ws, k) => {
    ws.on('message', (data, isBinary) => {
      if (!isBinary && texts[k].length < 50) texts[k].push(data.toString('utf8').slice(0, 200));
    });
  });
  const closedAll = viewers.map((ws) => closedOf(ws).then((c) => closes.push(c)));
  await Promise.all(
    viewers.map(async (ws, k) => {
      if (k === 0) {
        // 1,000 paths (170 KB) in one message: too large
        ws.send(JSON.stringify({ type: 'focus', files: many(k, 1000) }));
        sent++;
        return;
      }
      // 150 doc ids in one message: over the per-message limit
      ws.send(JSON.stringify({ type: 'focus', files: many(k, 150) }));
      sent++;
      let round = 0;
      while (running && ws.readyState === WebSocket.OPEN) {
        ws.send(
          JSON.stringify({
            type: round % 2 === 0 ? 'focus' : 'unfocus',
            files: many(k, 100, (round % 3) * 100),
          }),
        );
        sent++;
        round++;
        await sleep(5);
      }
    }),
  );
  while (running) await sleep(50);
  for (const ws of viewers) if (ws.readyState === WebSocket.OPEN) ws.close();
  await Promise.race([Promise.all(closedAll), sleep(2000)]);
  return texts;
}

let texts = [];
const main = cfg.mode === 'far-future' ? farFuture() : focusFlood().then((t) => (texts = t));
process.on('SIGTERM', async () => {
  running = false;
  await Promise.race([main.catch((e) => errors.push(String(e))), sleep(5000)]);
  process.stdout.write(`${JSON.stringify({ sent, closes, texts, errors })}\n`);
  process.exit(0);
});
main.catch((e) => errors.push(String(e)));
