import { DocIdError, parseDocId } from '@diaryx-sync/crdt';
import { CloseCode, docIdProtocolError, ProtocolError } from '../src';

describe('body doc ids with unsafe paths', () => {
  test.each([
    ['bidi override', 'body:ws/invoice\u202Edm.exe.md', 'bidi control'],
    ['bidi isolate', 'body:ws/a\u2066b.md', 'bidi control'],
    ['Windows reserved name', 'body:ws/CON.md', 'reserved name'],
    ['reserved folder', 'body:ws/notes/lpt3/a.md', 'reserved name'],
    ['NFD spelling', 'body:ws/cafe\u0301.md', 'NFC'],
    ['over-long path', `body:ws/${'d'.repeat(100)}/${'x'.repeat(90)}.md`, 'longer than 185'],
  ])('%s is refused with unsafe_path (close 4400)', (_what, docId, why) => {
    let error: unknown;
    try {
      parseDocId(docId);
    } catch (e) {
      error = e instanceof DocIdError ? docIdProtocolError(e) : e;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    const p = error as ProtocolError;
    expect(p.kind).toBe('unsafe_path');
    expect(p.closeCode).toBe(CloseCode.ProtocolError);
    expect(p.closeCode).toBe(4400);
    expect(p.reason).toMatch(/^unsafe_path: /);
    expect(p.reason).toContain(why);
    expect(Buffer.byteLength(p.reason)).toBeLessThanOrEqual(123);
  });

  it('accepts safe NFC paths, including names next to reserved ones', () => {
    for (const path of ['caf\u00e9.md', 'CONSOLE.md', 'notes/com10.md', `${'x'.repeat(182)}.md`]) {
      expect(parseDocId(`body:ws/${path}`)).toEqual({ kind: 'body', workspaceId: 'ws', path });
    }
  });
});
