/**
 * Opt-in release of unfocused body docs (`releaseUnfocusedBodiesAfterMs`,
 * docs/protocol.md#releasing-unfocused-body-docs): a synced, unfocused, idle body whose local
 * changes the server confirmed durable is unsubscribed (`leave`) and freed; it is loaded again
 * when focused or changed locally; a local change is never dropped before its `saved`. No
 * sockets: the server logic through the in-memory pipe, or frames fed by hand.
 */
import * as Y from 'yjs';
import {
  SyncSession,
  createYDocSessionDocuments,
  type SessionAction,
  type SyncEvent,
  type YDocSessionDocuments,
} from '../src/client';
import { SessionPipe, TestSyncServerCore } from '../src/client/testing';
import { encodeFrame } from '../src/framing';
import { encodeMessage } from '../src/sync';
import { WS, bodyText, fileJson, seedServer } from './session-helpers';

const IDLE_MS = 500;

interface Client {
  readonly docs: YDocSessionDocuments;
  readonly session: SyncSession;
  readonly pipe: SessionPipe;
}

function releasingClient(core: TestSyncServerCore, releaseAfterMs: number | undefined): Client {
  const docs = createYDocSessionDocuments();
  const holder: { pipe?: SessionPipe } = {};
  const session = new SyncSession({
    workspaceId: WS,
    documents: docs,
    clock: () => holder.pipe?.now ?? 0,
    releaseUnfocusedBodiesAfterMs: releaseAfterMs,
  });
  const pipe = new SessionPipe(session, core, { seed: 1, maxDelayMs: 5 });
  holder.pipe = pipe;
  return { docs, session, pipe };
}

/** Makes a local edit of a loaded body and feeds it to the session, as an application does. */
function editBody(c: Client, path: string, text: string): void {
  const doc = c.docs.bodyDocs.get(path)!;
  let update: Uint8Array | undefined;
  doc.once('update', (u: Uint8Array) => (update = u));
  doc.getText('body').insert(doc.getText('body').length, text);
  c.pipe.feed({ type: 'LocalUpdate', docId: `body:${WS}/${path}`, update: update! });
}

const texts = (c: Client): string[] => c.pipe.sent.flatMap((f) => (f.text !== undefined ? [f.text] : []));
const released = (events: SyncEvent[]): string[] =>
  events.flatMap((e) => (e.type === 'BodyReleased' ? [e.path] : [])).sort();

describe('SyncSession releasing unfocused bodies (in-memory pipe)', () => {
  it('releases every synced, unfocused, idle body after a save round; the focused one stays', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, { 'a.md': 'A', 'b.md': 'B', 'c.md': 'C' });
    const c = releasingClient(core, IDLE_MS);
    c.pipe.feed({ type: 'Focus', paths: ['a.md'] });
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
    const syncedAt = c.pipe.now;
    expect(c.pipe.run(() => c.session.releasedBodies().length === 2, 5000)).toBe(true);
    // Not before the idle time, and only after the server confirmed the state durable.
    expect(c.pipe.now - syncedAt).toBeGreaterThanOrEqual(IDLE_MS);
    expect(c.session.releasedBodies().sort()).toEqual(['b.md', 'c.md']);
    expect(released(c.pipe.events)).toEqual(['b.md', 'c.md']);
    expect([...c.docs.bodyDocs.keys()]).toEqual(['a.md']);
    for (const p of ['b.md', 'c.md']) {
      const doc = `body:${WS}/${p}`;
      const save = texts(c).indexOf(JSON.stringify({ action: 'save', doc }));
      const leave = texts(c).indexOf(JSON.stringify({ action: 'leave', doc }));
      expect(save).toBeGreaterThanOrEqual(0);
      expect(leave).toBeGreaterThan(save);
    }
    // Saves the session asked for itself are not reported as Saved.
    expect(c.pipe.events.some((e) => e.type === 'Saved')).toBe(false);
    expect(c.session.isSynced).toBe(true);
  });

  it('a released body gets no updates; focusing it loads it again with what it missed', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, { 'a.md': 'A', 'b.md': 'B' });
    const c = releasingClient(core, IDLE_MS);
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.releasedBodies().length === 2, 5000)).toBe(true);
    expect(c.docs.bodyDocs.size).toBe(0);

    // Another client edits b.md: the released body is not subscribed any more.
    const other = releasingClient(core, undefined);
    other.pipe.connect();
    expect(other.pipe.run(() => other.session.isSynced)).toBe(true);
    editBody(other, 'b.md', ' edited');
    other.pipe.drain();
    c.pipe.drain();
    expect(c.docs.bodyDocs.has('b.md')).toBe(false);

    c.pipe.feed({ type: 'Focus', paths: ['b.md'] });
    expect(c.session.releasedBodies()).toEqual(['a.md']);
    c.pipe.drain();
    expect(bodyText(c.docs.bodyDocs.get('b.md'))).toBe('B edited');
    // Focused: never released again while focused.
    c.pipe.run(() => false, 3 * IDLE_MS);
    expect(c.session.releasedBodies()).toEqual(['a.md']);
    // Unfocused: released again after the idle time.
    c.pipe.feed({ type: 'Unfocus', paths: ['b.md'] });
    expect(c.pipe.run(() => c.session.releasedBodies().length === 2, 5000)).toBe(true);
  });

  it('stays released across a reconnect: Synced without loading it, and loaded again on a local change', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, { 'a.md': 'A', 'b.md': 'B' });
    const c = releasingClient(core, IDLE_MS);
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.releasedBodies().length === 2, 5000)).toBe(true);
    c.pipe.disconnect();
    const sentBefore = c.pipe.sent.length;
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
    const bodyFrames = c.pipe.sent.slice(sentBefore).filter((f) => f.docId?.startsWith('body:'));
    expect(bodyFrames).toEqual([]);
    expect(c.docs.bodyDocs.size).toBe(0);

    // The application writes to a.md (it loads the doc first: here an empty one, as after a
    // fresh start): the body is loaded again, synced, and the edit merges with the server's.
    c.docs.bodies.get('a.md');
    editBody(c, 'a.md', '!');
    expect(c.session.releasedBodies()).toEqual(['b.md']);
    c.pipe.drain();
    expect(bodyText(core.docs.get(`body:${WS}/a.md`))).toContain('!');
    expect(bodyText(c.docs.bodyDocs.get('a.md'))).toBe(bodyText(core.docs.get(`body:${WS}/a.md`)));
  });

  it('releases nothing without the option', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, { 'a.md': 'A', 'b.md': 'B' });
    const c = releasingClient(core, undefined);
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
    c.pipe.run(() => false, 10 * IDLE_MS);
    expect(c.session.releasedBodies()).toEqual([]);
    expect(c.docs.bodyDocs.size).toBe(2);
    expect(texts(c).some((t) => t.includes('"leave"') || t.includes('"save"'))).toBe(false);
  });
});

// ------------------------------------------------------------------------------------------------
// Frames fed by hand: the server withholds `saved`, refuses a change, answers saves in order.

function frame(docId: string, message: Parameters<typeof encodeMessage>[0]): Uint8Array {
  return encodeFrame(docId, encodeMessage(message));
}

function sentTexts(actions: SessionAction[]): string[] {
  return actions.flatMap((a) => (a.type === 'SendText' ? [a.text] : []));
}

function emitted(actions: SessionAction[]): SyncEvent[] {
  return actions.flatMap((a) => (a.type === 'Emit' ? [a.event] : []));
}

/**
 * A session synced with one file `a.md` (server body `A`) whose state was exchanged (the server's
 * SyncStep1 answered); `now` drives its clock.
 */
function syncedByHand(): { session: SyncSession; docs: YDocSessionDocuments; clock: { now: number } } {
  const clock = { now: 0 };
  const docs = createYDocSessionDocuments();
  const session = new SyncSession({
    workspaceId: WS,
    documents: docs,
    clock: () => clock.now,
    releaseUnfocusedBodiesAfterMs: IDLE_MS,
  });
  handshake(session);
  expect(session.isSynced).toBe(true);
  return { session, docs, clock };
}

/** Connects and syncs `a.md` with a server holding body `A`, answering the server's SyncStep1. */
function handshake(session: SyncSession): void {
  const workspace = new Y.Doc();
  workspace.getMap<string>('files').set('a.md', fileJson('a.md'));
  const body = new Y.Doc();
  body.getText('body').insert(0, 'A');
  session.handle({ type: 'Connected' });
  session.handle({
    type: 'BinaryMessage',
    data: frame(`workspace:${WS}`, { type: 'syncStep2', update: Y.encodeStateAsUpdate(workspace) }),
  });
  session.handle({ type: 'TextMessage', text: '{"type":"sync_complete","files_synced":1}' });
  session.handle({
    type: 'BinaryMessage',
    data: frame(`body:${WS}/a.md`, { type: 'syncStep2', update: Y.encodeStateAsUpdate(body) }),
  });
  session.handle({
    type: 'BinaryMessage',
    data: frame(`body:${WS}/a.md`, { type: 'syncStep1', stateVector: Y.encodeStateVector(body) }),
  });
}

function localEdit(session: SyncSession, docs: YDocSessionDocuments, text: string): void {
  const doc = docs.bodyDocs.get('a.md')!;
  let update: Uint8Array | undefined;
  doc.once('update', (u: Uint8Array) => (update = u));
  doc.getText('body').insert(0, text);
  session.handle({ type: 'LocalUpdate', docId: `body:${WS}/a.md`, update: update! });
}

const SAVE_A = JSON.stringify({ action: 'save', doc: `body:${WS}/a.md` });
const LEAVE_A = JSON.stringify({ action: 'leave', doc: `body:${WS}/a.md` });
const SAVED_A = JSON.stringify({ type: 'saved', doc: `body:${WS}/a.md` });

describe('SyncSession never releases a body with unacknowledged local changes', () => {
  it('keeps the body until a `saved` covers its last local change', () => {
    const { session, docs, clock } = syncedByHand();
    localEdit(session, docs, 'x');
    clock.now += IDLE_MS;
    expect(sentTexts(session.handle({ type: 'Tick' }))).toEqual([SAVE_A]);
    // No answer yet: no second save, no release, however long it waits.
    clock.now += 60_000;
    expect(sentTexts(session.handle({ type: 'Tick' }))).toEqual([]);
    expect(docs.bodyDocs.has('a.md')).toBe(true);

    // Another local change after the request: that `saved` does not cover it.
    localEdit(session, docs, 'y');
    expect(emitted(session.handle({ type: 'TextMessage', text: SAVED_A }))).toEqual([]);
    clock.now += IDLE_MS;
    expect(sentTexts(session.handle({ type: 'Tick' }))).toEqual([SAVE_A]);
    expect(docs.bodyDocs.has('a.md')).toBe(true);

    session.handle({ type: 'TextMessage', text: SAVED_A });
    const actions = session.handle({ type: 'Tick' });
    expect(sentTexts(actions)).toEqual([LEAVE_A]);
    expect(emitted(actions)).toContainEqual({ type: 'BodyReleased', path: 'a.md' });
    expect(docs.bodyDocs.has('a.md')).toBe(false);
  });

  it('a save left unanswered by a lost connection proves nothing: a new one is sent on the next', () => {
    const { session, docs, clock } = syncedByHand();
    localEdit(session, docs, 'x');
    clock.now += IDLE_MS;
    expect(sentTexts(session.handle({ type: 'Tick' }))).toEqual([SAVE_A]);
    session.handle({ type: 'Disconnected' });
    localEdit(session, docs, 'y'); // offline: carried by the next handshake
    handshake(session);
    expect(session.isSynced).toBe(true);
    clock.now += IDLE_MS;
    expect(sentTexts(session.handle({ type: 'Tick' }))).toEqual([SAVE_A]);
    expect(docs.bodyDocs.has('a.md')).toBe(true);
    // A `saved` nobody of this connection asked for is the application's: reported, proves nothing.
    session.handle({ type: 'Disconnected' });
    handshake(session);
    expect(emitted(session.handle({ type: 'TextMessage', text: SAVED_A }))).toEqual([
      { type: 'Saved', docId: `body:${WS}/a.md` },
    ]);
    clock.now += IDLE_MS;
    expect(sentTexts(session.handle({ type: 'Tick' }))).toEqual([SAVE_A]);
    expect(docs.bodyDocs.has('a.md')).toBe(true);
  });

  it('a body whose change the server refused (read_only) is never released', () => {
    const { session, docs, clock } = syncedByHand();
    localEdit(session, docs, 'x');
    session.handle({
      type: 'TextMessage',
      text: JSON.stringify({ type: 'error', code: 'read_only', doc: `body:${WS}/a.md` }),
    });
    clock.now += IDLE_MS;
    expect(sentTexts(session.handle({ type: 'Tick' }))).toEqual([]);
    clock.now += 60_000;
    expect(sentTexts(session.handle({ type: 'Tick' }))).toEqual([]);
    expect(docs.bodyDocs.has('a.md')).toBe(true);
  });

  it("saves are answered in order: the session's own silently, the application's as Saved", () => {
    const { session, docs, clock } = syncedByHand();
    localEdit(session, docs, 'x');
    clock.now += IDLE_MS;
    expect(sentTexts(session.handle({ type: 'Tick' }))).toEqual([SAVE_A]); // its own request
    expect(sentTexts(session.handle({ type: 'Save', docId: `body:${WS}/a.md` }))).toEqual([SAVE_A]);
    expect(emitted(session.handle({ type: 'TextMessage', text: SAVED_A }))).toEqual([]);
    expect(emitted(session.handle({ type: 'TextMessage', text: SAVED_A }))).toEqual([
      { type: 'Saved', docId: `body:${WS}/a.md` },
    ]);
    const actions = session.handle({ type: 'Tick' });
    expect(sentTexts(actions)).toEqual([LEAVE_A]);
    // Frames still in flight for the released body are ignored: it is not loaded again by them.
    session.handle({
      type: 'BinaryMessage',
      data: frame(`body:${WS}/a.md`, { type: 'update', update: Y.encodeStateAsUpdate(new Y.Doc()) }),
    });
    expect(docs.bodyDocs.has('a.md')).toBe(false);
  });
});
