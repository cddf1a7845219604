/**
 * Presence of open files: one y-protocols `Awareness` per open body doc, relayed as `/sync2`
 * Awareness messages on the body doc's frames (docs/protocol.md#the-multiplexed-endpoint-sync2).
 */
import * as Y from 'yjs';
import {
  Awareness,
  applyAwarenessUpdate,
  encodeAwarenessUpdate,
  removeAwarenessStates,
} from 'y-protocols/awareness';

/** Origin of awareness updates that came from the server (never sent back). */
const REMOTE = 'diaryx-sync:remote-awareness';

/** The presence of one open file. */
export class FilePresence {
  readonly awareness: Awareness;
  private readonly onUpdate: (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ) => void;

  /** `send` receives each local awareness update (to be framed for the file's body doc). */
  constructor(doc: Y.Doc, send: (update: Uint8Array) => void) {
    this.awareness = new Awareness(doc);
    this.onUpdate = ({ added, updated, removed }, origin) => {
      if (origin === REMOTE) return;
      const changed = [...added, ...updated, ...removed];
      if (changed.length > 0) send(encodeAwarenessUpdate(this.awareness, changed));
    };
    this.awareness.on('update', this.onUpdate);
  }

  /** Our own state, to announce on a new connection. */
  localUpdate(): Uint8Array | null {
    if (this.awareness.getLocalState() === null) return null;
    return encodeAwarenessUpdate(this.awareness, [this.awareness.clientID]);
  }

  /** Applies an awareness update from the server. */
  applyRemote(update: Uint8Array): void {
    applyAwarenessUpdate(this.awareness, update, REMOTE);
  }

  /**
   * Forgets every other client's state (the connection is gone; the server will resend them).
   * Their clocks are forgotten too: y-protocols ignores a state whose clock is not newer than the
   * last one seen, so the server's resend of an unchanged state would otherwise be dropped until
   * that peer renews its state twice (up to ~30 s without presence after every reconnect).
   */
  dropRemoteStates(): void {
    const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.awareness.clientID);
    if (others.length > 0) removeAwarenessStates(this.awareness, others, REMOTE);
    for (const id of others) this.awareness.meta.delete(id);
  }

  /** Announces our departure (sent while still connected) and stops the awareness timers. */
  destroy(): void {
    this.awareness.setLocalState(null);
    this.awareness.off('update', this.onUpdate);
    this.awareness.destroy();
  }
}
