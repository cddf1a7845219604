/**
 * Edit markers: every edit of a load client inserts `~lt<id>;` into the doc's `body` text. The
 * marker travels as UTF-8 inside the Yjs update, so arrivals are counted by scanning the update
 * bytes — no Y.Doc needed on the receiving side. The prefix is long enough that the binary parts
 * of an update (varint clocks, lengths) practically never spell a marker; receivers also accept
 * only ids of their own doc's edits (load/fanout-shard.ts).
 */

const MARKER = /~lt(\d+);/g;

/** The text one edit inserts. */
export function markerText(id: number): string {
  return `~lt${id};`;
}

/** Calls `found(id)` for every marker in `bytes` (a Yjs update or a SyncStep2). */
export function scanMarkers(bytes: Uint8Array, found: (id: number) => void): void {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  for (const match of text.matchAll(MARKER)) found(Number(match[1]));
}

/** True when `bytes` contain the marker of edit `id` (a native search: cheap on megabytes). */
export function containsMarker(bytes: Uint8Array, id: number): boolean {
  return (
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(markerText(id), 0, 'latin1') >= 0
  );
}
