import {
  ClientControlMessageSchema,
  encodeServerControl,
  ErrorCode,
  focusLimitError,
  focusListChangedMessage,
  parseClientControl,
  parseServerControl,
  peerCountMessage,
  pongMessage,
  readOnlyError,
  savedMessage,
  ServerControlMessageSchema,
  syncCompleteMessage,
} from '@diaryx-sync/protocol';
import fc from 'fast-check';

describe('client control messages', () => {
  it.each([
    ['{"type":"FilesReady"}', { type: 'FilesReady' }],
    ['{"type":"files_ready"}', { type: 'files_ready' }],
    ['{"type":"focus","files":["body:ws/a.md"]}', { type: 'focus', files: ['body:ws/a.md'] }],
    ['{"type":"unfocus","files":[]}', { type: 'unfocus', files: [] }],
    ['{"action":"leave","doc":"body:ws/a.md"}', { action: 'leave', doc: 'body:ws/a.md' }],
    ['{"action":"save","doc":"workspace:ws"}', { action: 'save', doc: 'workspace:ws' }],
    ['{"type":"ping"}', { type: 'ping' }],
    ['{"type":"ping","extra":1}', { type: 'ping' }],
  ])('parses %s', (text, expected) => {
    expect(parseClientControl(text)).toEqual({ ok: true, message: expected });
  });

  it.each(['not json', '{', '', '{"type":}'])('bad_json for %j', (text) => {
    const result = parseClientControl(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('bad_json');
    expect(JSON.parse(result.reply)).toEqual({ type: 'error', code: 'bad_json' });
  });

  it.each([
    '{"type":"hello"}',
    '{"type":"focus"}',
    '{"type":"focus","files":[1]}',
    '{"action":"delete","doc":"x"}',
    '{"action":"save"}',
    '[]',
    'null',
    '42',
    '"ping"',
    '{}',
    '{"type":"sync_complete","files_synced":1}',
  ])('unknown_message for %s', (text) => {
    const result = parseClientControl(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('unknown_message');
    expect(JSON.parse(result.reply)).toEqual({ type: 'error', code: 'unknown_message' });
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const result = parseClientControl(text);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('server control messages', () => {
  it('encodes exactly the docs/protocol.md shapes', () => {
    expect(JSON.parse(encodeServerControl(syncCompleteMessage(3)))).toEqual({
      type: 'sync_complete',
      files_synced: 3,
    });
    expect(JSON.parse(encodeServerControl(readOnlyError('body:ws/a.md')))).toEqual({
      type: 'error',
      code: 'read_only',
      doc: 'body:ws/a.md',
    });
    expect(JSON.parse(encodeServerControl(savedMessage('workspace:ws')))).toEqual({
      type: 'saved',
      doc: 'workspace:ws',
    });
    expect(encodeServerControl(pongMessage())).toBe('{"type":"pong"}');
    expect(JSON.parse(encodeServerControl(peerCountMessage('peer_left', 'ws', 2)))).toEqual({
      type: 'peer_left',
      workspace: 'ws',
      peer_count: 2,
    });
    expect(JSON.parse(encodeServerControl(focusListChangedMessage('ws', ['a.md'])))).toEqual({
      type: 'focus_list_changed',
      workspace: 'ws',
      files: ['a.md'],
    });
    expect(ErrorCode).toEqual({
      ReadOnly: 'read_only',
      UnknownMessage: 'unknown_message',
      BadJson: 'bad_json',
      FocusLimit: 'focus_limit',
    });
    expect(JSON.parse(encodeServerControl(focusLimitError('at most 100 doc ids')))).toEqual({
      type: 'error',
      code: 'focus_limit',
      message: 'at most 100 doc ids',
    });
  });

  it('parses every server message, including other servers’ handshake', () => {
    const cases: [string, unknown][] = [
      ['{"type":"sync_complete","files_synced":42}', { type: 'sync_complete', files_synced: 42 }],
      [
        '{"type":"sync_progress","completed":5,"total":10}',
        { type: 'sync_progress', completed: 5, total: 10 },
      ],
      ['{"type":"peer_joined","peer_count":3}', { type: 'peer_joined', peer_count: 3 }],
      ['{"type":"peer_joined"}', { type: 'peer_joined', peer_count: 0 }],
      [
        '{"type":"peer_left","workspace":"ws","peer_count":1}',
        { type: 'peer_left', workspace: 'ws', peer_count: 1 },
      ],
      ['{"type":"focus_list_changed","files":["a.md"]}', { type: 'focus_list_changed', files: ['a.md'] }],
      ['{"type":"saved","doc":"workspace:ws"}', { type: 'saved', doc: 'workspace:ws' }],
      ['{"type":"error","code":"unknown_message"}', { type: 'error', code: 'unknown_message' }],
      [
        '{"type":"error","code":"x","message":"m","doc":"d"}',
        { type: 'error', code: 'x', message: 'm', doc: 'd' },
      ],
      ['{"type":"pong"}', { type: 'pong' }],
      [
        '{"type":"file_manifest","files":[{"path":"a.md"}],"client_is_new":true}',
        { type: 'file_manifest', files: [{ path: 'a.md' }], client_is_new: true },
      ],
      ['{"type":"file_manifest"}', { type: 'file_manifest', files: [], client_is_new: false }],
      ['{"type":"crdt_state","state":"AQAAAA=="}', { type: 'crdt_state', state: 'AQAAAA==' }],
    ];
    for (const [text, expected] of cases)
      expect(parseServerControl(text)).toEqual({ ok: true, message: expected });
    expect(parseServerControl('{"type":"future"}')).toMatchObject({ ok: false, code: 'unknown_message' });
    expect(parseServerControl('x')).toMatchObject({ ok: false, code: 'bad_json' });
  });
});

describe('text frames as bytes', () => {
  it('accepts UTF-8 bytes and reports invalid UTF-8 as bad_json', () => {
    expect(parseClientControl(Buffer.from('{"type":"ping"}'))).toEqual({
      ok: true,
      message: { type: 'ping' },
    });
    expect(parseClientControl(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]))).toMatchObject({
      ok: false,
      code: 'bad_json',
    });
  });
});

describe('control messages: discriminated unions validated with zod, both directions', () => {
  it('parses client messages and answers bad input with the exact error frame', () => {
    expect(parseClientControl('{"type":"focus","files":["body:w/a.md"]}')).toMatchObject({
      ok: true,
      message: { type: 'focus', files: ['body:w/a.md'] },
    });
    expect(parseClientControl('{"action":"save","doc":"workspace:w"}')).toMatchObject({ ok: true });
    expect(parseClientControl('{"type":"files_ready"}')).toMatchObject({ ok: true });
    expect(parseClientControl('{"type":"FilesReady"}')).toMatchObject({ ok: true });
    expect(parseClientControl('{"type":"focus"}')).toMatchObject({ ok: false, code: 'unknown_message' });
    expect(parseClientControl('{nope')).toMatchObject({ ok: false, code: 'bad_json' });
    expect(JSON.parse((parseClientControl('{nope') as { reply: string }).reply)).toEqual({
      type: 'error',
      code: 'bad_json',
    });
    expect(ClientControlMessageSchema.safeParse({ type: 'ping' }).success).toBe(true);
  });

  it('parses server messages strictly (counts are non-negative)', () => {
    expect(parseServerControl('{"type":"sync_complete","files_synced":3}')).toMatchObject({
      ok: true,
      message: { type: 'sync_complete', files_synced: 3 },
    });
    expect(parseServerControl('{"type":"sync_complete","files_synced":-1}')).toMatchObject({ ok: false });
    expect(ServerControlMessageSchema.safeParse({ type: 'saved', doc: 'workspace:w' }).success).toBe(true);
  });
});
