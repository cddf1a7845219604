import { concatParts, FrameBatches, type FrameBatch } from '../src/sync/frame-batches';

interface Batch extends FrameBatch {
  name: string;
}

const bytes = (...v: number[]) => new Uint8Array(v);
const batch = (name: string, first: Uint8Array): Batch => ({ name, parts: [first], bytes: first.length });
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe('FrameBatches', () => {
  test('gathers the frames of one key in one turn and sends each batch once, in opening order, at the end of the turn', async () => {
    const sent: string[] = [];
    const batches = new FrameBatches<Batch>({ maxBytes: 100, maxFrames: 10 }, (b) =>
      sent.push(`${b.name}:${Array.from(concatParts(b.parts, b.bytes)).join(',')}`),
    );
    expect(batches.tryAppend('a', bytes(1))).toBe(false);
    batches.start('a', batch('A', bytes(1)));
    batches.start('b', batch('B', bytes(9)));
    expect(batches.tryAppend('a', bytes(2, 3))).toBe(true);
    expect(batches.tryAppend('b', bytes(8))).toBe(true);
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual(['A:1,2,3', 'B:9,8']);
    expect(batches.size).toBe(0);
    // the next turn starts new batches
    expect(batches.tryAppend('a', bytes(4))).toBe(false);
  });

  test('a full batch takes no more frames; starting the next one sends the full one first', () => {
    const sent: string[] = [];
    const batches = new FrameBatches<Batch>({ maxBytes: 4, maxFrames: 3 }, (b) => sent.push(b.name));
    batches.start('a', batch('A1', bytes(1, 1)));
    expect(batches.tryAppend('a', bytes(2, 2))).toBe(true);
    expect(batches.tryAppend('a', bytes(3))).toBe(false); // 5 bytes > 4
    batches.start('a', batch('A2', bytes(3)));
    expect(sent).toEqual(['A1']);
    expect(batches.tryAppend('a', bytes(4))).toBe(true);
    expect(batches.tryAppend('a', bytes(5))).toBe(true);
    expect(batches.tryAppend('a', bytes(6))).toBe(false); // 3 frames
    batches.sealAll();
    expect(sent).toEqual(['A1', 'A2']);
  });

  test('sealKey sends one key at once (order with what follows); detach stops a batch from growing without sending it', () => {
    const sent: string[] = [];
    const batches = new FrameBatches<Batch>({ maxBytes: 100, maxFrames: 10 }, (b) => sent.push(b.name));
    const a = batch('A', bytes(1));
    batches.start('a', a);
    batches.start('b', batch('B', bytes(2)));
    batches.sealKey('b');
    expect(sent).toEqual(['B']);
    batches.detach('a', a);
    expect(batches.tryAppend('a', bytes(3))).toBe(false);
    batches.sealAll();
    expect(sent).toEqual(['B']);
    expect(a.parts).toHaveLength(1);
  });

  test('concatParts joins payloads in order and returns a single part as is', () => {
    const one = bytes(7, 8);
    expect(concatParts([one], 2)).toBe(one);
    expect(Array.from(concatParts([bytes(1), bytes(2, 3), bytes()], 3))).toEqual([1, 2, 3]);
  });
});
