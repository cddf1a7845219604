/**
 * The text frames that announce a client's focus (docs/protocol.md#text-frames-json): body doc
 * ids this client has open, at most {@link FOCUS_BATCH} per message (the server's default
 * `SYNC_MAX_FOCUS_PER_MESSAGE`; more in one message would be refused with `focus_limit`).
 */

/** Doc ids per `focus`/`unfocus` message. */
export const FOCUS_BATCH = 100;

/** `{"type":"focus"|"unfocus","files":[…]}` messages for `docIds`, in batches; none for none. */
export function focusMessages(type: 'focus' | 'unfocus', docIds: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < docIds.length; i += FOCUS_BATCH) {
    out.push(JSON.stringify({ type, files: docIds.slice(i, i + FOCUS_BATCH) }));
  }
  return out;
}
