import { LoadedDoc } from '../src/docs/loaded-doc';

function loadedDoc(onOutputError: (error: unknown) => void): LoadedDoc {
  const parsed = { kind: 'workspace', workspaceId: 'w' } as const;
  return new LoadedDoc('t', 'workspace:w', parsed, 0, 1, '', null, 0, onOutputError);
}

describe('LoadedDoc output chain', () => {
  test('a failing step is reported with its error and the next steps still run in order', async () => {
    const reported: unknown[] = [];
    const doc = loadedDoc((err) => reported.push(err));
    const ran: string[] = [];
    const boom = new Error('publish failed');
    void doc.chain(() => {
      ran.push('a');
    });
    void doc.chain(async () => {
      ran.push('b');
      throw boom;
    });
    await doc.chain(() => {
      ran.push('c');
    });
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(reported).toEqual([boom]);
    expect(doc.inflight).toBe(0);
  });
});
