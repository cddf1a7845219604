import * as Y from 'yjs';
import { decodeMessages, encodeMessage } from '@diaryx-sync/protocol';

/** Transaction origin used when a simulated client applies remote changes (never echoed). */
export const REMOTE = 'remote';

/** A minimal y-sync client: answers SyncStep1, applies SyncStep2/Update; returns its replies. */
export function clientHandle(doc: Y.Doc, payload: Uint8Array): Uint8Array[] {
  const replies: Uint8Array[] = [];
  for (const message of decodeMessages(payload, 'yjs')) {
    if (message.type === 'syncStep1') {
      replies.push(
        encodeMessage({ type: 'syncStep2', update: Y.encodeStateAsUpdate(doc, message.stateVector) }),
      );
    } else if (message.type === 'syncStep2' || message.type === 'update') {
      Y.applyUpdate(doc, message.update, REMOTE);
    }
  }
  return replies;
}

/** The client's opening message. */
export function step1Of(doc: Y.Doc): Uint8Array {
  return encodeMessage({ type: 'syncStep1', stateVector: Y.encodeStateVector(doc) });
}

/** Comparable content of a test doc: text `t` and map `m`. */
export function contentOf(doc: Y.Doc): { text: string; map: Record<string, unknown> } {
  return { text: doc.getText('t').toString(), map: doc.getMap('m').toJSON() };
}
