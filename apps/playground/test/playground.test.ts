/**
 * The /play playground as users see it: real headless Chromium (playwright-core + the Debian
 * `chromium`), pages served by a real gateway process of a TestCluster (doc service, PostgreSQL,
 * Redis). Two editors converge and see each other, a viewer can change nothing and is told so,
 * a session on short-lived minted tokens outlives them without losing an edit, restore, commit and
 * zip download work. Needs `npm run build` (gateway dist and apps/playground/dist). Screenshots: test-output/playground-*.png.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readWorkspaceZip } from '@diaryx-sync/git-store';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import type { Browser, Page } from 'playwright-core';
import {
  startCluster,
  waitUntil,
  type ServiceProcess,
  type TestCluster,
  type TestTenant,
} from '../../gateway/test/helpers/cluster';
import { haveChromium, launchChromium } from '../../gateway/test/helpers/chromium';

// Project testTimeout is not read when jest runs from the root: set it here.
jest.setTimeout(180_000);

const OUT = path.resolve(__dirname, '../../../test-output');
const WORKSPACE = 'journal';
const FILE = 'notes/today.md';

let s3: EmbeddedS3;
let cluster: TestCluster;
let worker: ServiceProcess;
let tenant: TestTenant;
let browser: Browser;

beforeAll(async () => {
  if (!haveChromium) return;
  s3 = await startEmbeddedS3({ port: 0 });
  // Commits on demand only (the Commit button), never by the quiet-period timer.
  cluster = await startCluster({
    gateways: 1,
    docServices: 1,
    env: { S3_ENDPOINT: s3.endpoint, HISTORY_QUIET_MS: '600000', HISTORY_MAX_WAIT_MS: '600000' },
  });
  worker = await cluster.historyWorker();
  await worker.start();
  tenant = await cluster.createTenant('playground');
  await cluster.createWorkspace(tenant, WORKSPACE);
  browser = await launchChromium();
  fs.mkdirSync(OUT, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await cluster?.stop();
  await s3?.stop();
});

/** A token minted through the gateway's token API (`POST /api/tokens`, tenant admin). */
async function mint(sub: string, role: 'editor' | 'viewer', ttl_s = 3600): Promise<string> {
  const res = await fetch(`${cluster.http()}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.adminToken}` },
    body: JSON.stringify({ sub, ws: [WORKSPACE], role, ttl_s }),
  });
  const body = (await res.json()) as { token: string };
  if (res.status !== 201) throw new Error(`mint: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/** A fresh browser context on `/play` signed in through the URL fragment; waits until synced. */
async function openPlayground(hash: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const external: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(cluster.http()) && !r.url().startsWith('blob:')) external.push(r.url());
  });
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  await page.goto(`${cluster.http()}/play${hash}`);
  await page.waitForSelector('#status[data-status="synced"]', { timeout: 60_000 });
  expect(external).toEqual([]);
  return page;
}

/** The open file's text as the editor shows it, without the other users' cursor labels. */
const editorText = (page: Page) =>
  page.evaluate(() => {
    const content = document.querySelector('#editor .cm-content');
    if (!content) return '';
    const copy = content.cloneNode(true) as HTMLElement;
    copy.querySelectorAll('.cm-ySelectionCaret, .cm-widgetBuffer').forEach((n) => n.remove());
    return Array.from(copy.querySelectorAll('.cm-line'), (line) => line.textContent ?? '').join('\n');
  });

/** The last non-empty line of the open file. */
async function lastLine(page: Page): Promise<string> {
  return (
    (await editorText(page))
      .split('\n')
      .filter((l) => l.trim())
      .pop() ?? ''
  );
}

async function openFile(page: Page, file: string): Promise<void> {
  await page.locator(`#tree li[data-path="${file}"]`).click({ timeout: 30_000 });
  await page.waitForFunction((f) => document.getElementById('file-title')?.textContent === f, file);
}

/** Types at the end of the open file. */
async function typeAtEnd(page: Page, text: string, delay = 0): Promise<void> {
  await page.locator('#editor .cm-content').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text, { delay });
}

const maybe = haveChromium ? describe : describe.skip;

maybe('playground in Chromium', () => {
  let ada: Page;
  let grace: Page;

  it('two editors edit the same file, converge and see each other', async () => {
    ada = await openPlayground(`#token=${await mint('ada', 'editor')}&workspace=${WORKSPACE}`);
    await ada.fill('#new-file input', FILE);
    await ada.click('#new-file button');
    await ada.waitForFunction((f) => document.getElementById('file-title')?.textContent === f, FILE);
    await typeAtEnd(ada, '\nAda was here.');

    grace = await openPlayground(`#token=${await mint('grace', 'editor')}&workspace=${WORKSPACE}`);
    await openFile(grace, FILE);
    await waitUntil(
      async () => (await editorText(grace)).includes('Ada was here.'),
      30_000,
      "Ada's edit at Grace",
    );
    await typeAtEnd(grace, '\nGrace too.');
    await waitUntil(
      async () => (await editorText(ada)).includes('Grace too.'),
      30_000,
      "Grace's edit at Ada",
    );
    expect(await editorText(ada)).toBe(await editorText(grace));

    // Presence: each sees the other in "Here now" and the other's cursor in the editor.
    await ada.waitForSelector('#people li[data-name="grace"]', { timeout: 30_000 });
    await grace.waitForSelector('#people li[data-name="ada"]', { timeout: 30_000 });
    await ada.waitForSelector('#editor .cm-ySelectionCaret', { timeout: 30_000 });
    // The file's history lists its versions (HTTP API) with restore buttons.
    await ada.waitForSelector('#file-history button[data-update-id]', { timeout: 30_000 });
    await ada.screenshot({ path: path.join(OUT, 'playground-editors.png') });
  });

  it('restores a version from the file history, and every editor follows', async () => {
    await typeAtEnd(ada, '\nA line to undo.');
    await waitUntil(
      async () => (await editorText(grace)).includes('A line to undo.'),
      30_000,
      'line at Grace',
    );
    const before = await editorText(ada);
    // The list refreshes after edits; the oldest listed version predates "A line to undo.".
    await waitUntil(
      async () => (await ada.locator('#file-history button[data-update-id]').count()) >= 5,
      30_000,
      'file history listed',
    );
    await ada.locator('#file-history button[data-update-id]').last().click();
    await ada.waitForFunction(() => document.getElementById('notice')?.textContent?.startsWith('Restored'));
    await waitUntil(async () => (await editorText(ada)) !== before, 30_000, 'restored text at Ada');
    expect(await editorText(ada)).not.toContain('A line to undo.');
    await waitUntil(
      async () => (await editorText(grace)) === (await editorText(ada)),
      30_000,
      'Grace follows',
    );
  });

  it('commits the workspace and downloads it as a zip', async () => {
    await ada.click('#commit');
    await ada.waitForFunction(
      () => document.getElementById('notice')?.textContent?.startsWith('Committed'),
      null,
      {
        timeout: 60_000,
      },
    );
    await ada.waitForSelector('#commits li[data-commit]');
    const [download] = await Promise.all([ada.waitForEvent('download'), ada.click('#download')]);
    expect(download.suggestedFilename()).toBe(`${WORKSPACE}.zip`);
    const zip = fs.readFileSync(await download.path());
    const files = await readWorkspaceZip(zip);
    const today = files.find((f) => f.path === FILE);
    const content =
      typeof today?.content === 'string' ? today.content : Buffer.from(today?.content ?? []).toString();
    expect(content).toContain(await lastLine(ada));
  });

  it('a viewer can change nothing and is told so', async () => {
    const viewer = await openPlayground(`#token=${await mint('victor', 'viewer')}&workspace=${WORKSPACE}`);
    await viewer.waitForSelector('#banner:not([hidden])');
    expect(await viewer.locator('#banner').innerText()).toContain('Read-only');
    await openFile(viewer, FILE);
    await waitUntil(
      async () => (await editorText(viewer)) === (await editorText(ada)),
      30_000,
      'viewer has the file',
    );
    const before = await editorText(viewer);
    expect(await viewer.locator('#editor .cm-content').getAttribute('contenteditable')).toBe('false');
    await typeAtEnd(viewer, 'VIEWER WAS HERE');
    expect(await editorText(viewer)).toBe(before);

    // Actions are refused by the server or the SDK, and the page says so.
    await viewer.click('#commit');
    await viewer.waitForFunction(() =>
      document.getElementById('notice')?.textContent?.includes('403 forbidden'),
    );
    await viewer.fill('#new-file input', 'viewer.md');
    await viewer.click('#new-file button');
    await viewer.waitForFunction(() => document.getElementById('notice')?.textContent?.includes('read_only'));
    await viewer.screenshot({ path: path.join(OUT, 'playground-viewer.png') });
    expect(await ada.locator('#tree li[data-path="viewer.md"]').count()).toBe(0);
    expect(await editorText(ada)).not.toContain('VIEWER');
    await viewer.context().close();
  });

  it('a session on short-lived minted tokens refreshes them without losing an edit', async () => {
    // Signed in as tenant admin with mint=editor&ttl=6: the SDK's token provider mints a fresh
    // 6-second editor token before each expiry (the gateway closes sockets whose token expired).
    const hash = `#token=${tenant.adminToken}&workspace=${WORKSPACE}&name=lin&mint=editor&ttl=6`;
    const lin = await openPlayground(hash);
    await openFile(lin, FILE);
    const typed: string[] = [];
    const started = Date.now();
    await lin.locator('#editor .cm-content').click();
    await lin.keyboard.press('Control+End');
    await lin.keyboard.press('Enter');
    for (let i = 0; Date.now() - started < 15_000; i++) {
      const word = `w${i} `;
      await lin.keyboard.type(word);
      typed.push(word);
      await new Promise((r) => setTimeout(r, 250));
    }
    const refreshes = Number(await lin.locator('#token-info').getAttribute('data-refreshes'));
    expect(refreshes).toBeGreaterThanOrEqual(3); // ≥ 2 lifetimes of 6 s outlived
    const all = typed.join('').trimEnd();
    await waitUntil(
      async () => (await editorText(ada)).includes(all),
      30_000,
      "every one of Lin's words at Ada",
    );
    await lin.screenshot({ path: path.join(OUT, 'playground-token-refresh.png') });
    expect(await editorText(lin)).toBe(await editorText(ada));
    expect(await lin.locator('#status').getAttribute('data-status')).not.toBe('closed');
    await lin.context().close();
  });
});
