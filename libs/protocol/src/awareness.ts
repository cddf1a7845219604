/**
 * Server-side awareness bookkeeping for one document (y-protocols awareness format).
 *
 * An awareness update is `varUint(n)` followed by n entries
 * `varUint(clientID) varUint(clock) varString(JSON state)`; a `null` state means "gone".
 * The server does not interpret states: it relays every update to the other subscribers of the
 * document and remembers, per connection, which awareness client ids it announced, so that when
 * the connection leaves it can broadcast an update setting those states to `null` (clock + 1),
 * exactly what y-protocols' `removeAwarenessStates` would produce. It keeps the latest state per
 * client id to answer new subscribers / QueryAwareness. No timers: outdated states are removed
 * when their connection leaves.
 *
 * Clients keep their presence in y-protocols' `Awareness` (libs/client/src/presence.ts). The
 * server cannot: that class is one peer's view, not a relay. It needs a `Y.Doc` and announces a
 * state of its own (`{}` under the doc's client id); it runs a 3 s interval that drops remote
 * states not renewed for 30 s; it stores parsed states and re-encodes them with
 * `JSON.stringify`, so a snapshot would not carry the bytes the clients sent; and it knows no
 * owner per state, which removing a leaving connection's states needs. Its `encodeAwarenessUpdate`
 * encodes from such an `Awareness`; {@link encodeAwarenessUpdate} here encodes entries whose
 * JSON text is kept verbatim (same format). Decoding is strict (strict-decoding.ts says why).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { ProtocolError } from './errors';
import { hasMore, readVarStringStrict, readVarUintStrict } from './strict-decoding';

/** One entry of an awareness update. `state` is the JSON text (exactly `"null"` when removed). */
export interface AwarenessEntry {
  /** Awareness client id (the Yjs client id of the peer). */
  clientId: number;
  /** Logical clock of the state; higher wins. */
  clock: number;
  /** The state as JSON text (`"null"` when removed). */
  state: string;
}

/**
 * Decodes an awareness update strictly (each state must be valid JSON, no trailing bytes).
 *
 * @throws {@link ProtocolError} (`bad_varint`, `length_overrun`, `bad_update`).
 */
export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  const decoder = decoding.createDecoder(update);
  const count = readVarUintStrict(decoder, 'awareness count');
  const entries: AwarenessEntry[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = readVarUintStrict(decoder, 'awareness client id');
    const clock = readVarUintStrict(decoder, 'awareness clock');
    const state = readVarStringStrict(decoder, 'awareness state');
    let parsed: unknown;
    try {
      parsed = JSON.parse(state);
    } catch {
      throw new ProtocolError('bad_update', 'awareness: state is not valid JSON');
    }
    entries.push({ clientId, clock, state: parsed === null ? 'null' : state });
  }
  if (hasMore(decoder)) throw new ProtocolError('bad_update', 'awareness: trailing bytes');
  return entries;
}

/** Encodes awareness entries as an awareness update. */
export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, entry.state);
  }
  return encoding.toUint8Array(encoder);
}

interface KnownState {
  clock: number;
  state: string;
  owner: string;
}

/** Awareness states of one document and the connection that owns each client id. */
export class AwarenessRegistry {
  private readonly states = new Map<number, KnownState>();
  private readonly owned = new Map<string, Set<number>>();

  /**
   * Records an awareness update sent by connection `connectionId` and returns the bytes to
   * relay to the other subscribers (the validated update itself).
   *
   * @throws {@link ProtocolError} for a malformed update (nothing is recorded then).
   */
  apply(connectionId: string, update: Uint8Array): Uint8Array {
    const entries = decodeAwarenessUpdate(update);
    for (const { clientId, clock, state } of entries) {
      const known = this.states.get(clientId);
      // Same acceptance rule as y-protocols: newer clock, or a removal at the same clock.
      if (known && !(known.clock < clock || (known.clock === clock && state === 'null'))) continue;
      if (known && known.owner !== connectionId) this.owned.get(known.owner)?.delete(clientId);
      this.states.set(clientId, { clock, state, owner: connectionId });
      let set = this.owned.get(connectionId);
      if (!set) this.owned.set(connectionId, (set = new Set()));
      set.add(clientId);
    }
    return update;
  }

  /**
   * Forgets connection `connectionId` and returns the awareness update that removes its
   * (non-null) states for the others, or `undefined` when it had none.
   */
  removeConnection(connectionId: string): Uint8Array | undefined {
    const ids = this.owned.get(connectionId);
    this.owned.delete(connectionId);
    if (!ids) return undefined;
    const removals: AwarenessEntry[] = [];
    for (const clientId of ids) {
      const known = this.states.get(clientId);
      if (!known || known.owner !== connectionId) continue;
      this.states.delete(clientId);
      if (known.state !== 'null') removals.push({ clientId, clock: known.clock + 1, state: 'null' });
    }
    return removals.length > 0 ? encodeAwarenessUpdate(removals) : undefined;
  }

  /** An awareness update with every current (non-null) state, or `undefined` when there is none. */
  snapshot(): Uint8Array | undefined {
    const entries: AwarenessEntry[] = [];
    for (const [clientId, { clock, state }] of this.states) {
      if (state !== 'null') entries.push({ clientId, clock, state });
    }
    return entries.length > 0 ? encodeAwarenessUpdate(entries) : undefined;
  }

  /** Awareness client ids currently owned by a connection. */
  clientIdsOf(connectionId: string): number[] {
    return [...(this.owned.get(connectionId) ?? [])];
  }

  /** Number of client ids with a non-null state. */
  get size(): number {
    let n = 0;
    for (const { state } of this.states.values()) if (state !== 'null') n++;
    return n;
  }
}
