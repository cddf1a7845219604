/**
 * Bookkeeping of a {@link SyncSession}'s opt-in release of unfocused body docs
 * (docs/protocol.md#releasing-unfocused-body-docs): how many local changes each body had and how
 * many of them the server confirmed durable (`save` → `saved`), which bodies exchanged their
 * state with the server on this connection, when each last changed, which the server refused
 * (`read_only`), and which are released. Bodies are named by body name
 * ({@link SessionWorkspaceDoc.bodyNames}).
 */

/** A `save` this connection sent, waiting for its `saved` (answered in request order per doc). */
interface SaveRequest {
  /** The body it covers, when one (undefined for the workspace doc). */
  readonly name: string | undefined;
  /**
   * Local changes of that body that the request covers: every change counted before it, when all
   * of them were sent on this connection before the request (else undefined: it proves nothing).
   */
  readonly covers: number | undefined;
  /** Requested by the application (`Save` event, reported as `Saved`) rather than the session. */
  readonly external: boolean;
}

/** What to do with a body that could be released. */
export type ReleaseDecision = 'release' | 'save' | 'keep';

/** See module doc. */
export class BodyReleaseLedger {
  /** Local changes counted per body since the session started (offline ones included). */
  private readonly changes = new Map<string, number>();
  /** Per body, how many of its local changes a `saved` confirmed durable; absent: none yet. */
  private readonly durable = new Map<string, number>();
  /** Bodies whose state went to the server on this connection (the server's SyncStep1 answered). */
  private readonly exchanged = new Set<string>();
  /** When each body was last synced or changed (session clock). */
  private readonly lastActive = new Map<string, number>();
  /** Bodies with a change the server refused (`read_only`): never released. */
  private readonly refused = new Set<string>();
  /** `save` requests of this connection per doc id, oldest first. */
  private readonly saves = new Map<string, SaveRequest[]>();
  /** Released bodies (not loaded, not subscribed); loaded again on demand. */
  private readonly releasedNames = new Set<string>();

  /** A connection opened or closed: nothing was exchanged on it yet, no `saved` will come. */
  newConnection(): void {
    this.exchanged.clear();
    this.saves.clear();
  }

  /** The application changed body `name` (online or offline). */
  localChange(name: string, now: number): void {
    this.changes.set(name, (this.changes.get(name) ?? 0) + 1);
    this.lastActive.set(name, now);
  }

  /** Body `name` was synced or changed remotely. */
  touched(name: string, now: number): void {
    this.lastActive.set(name, now);
  }

  /**
   * The session answered the server's SyncStep1 of body `name`: everything the body holds went
   * to the server on this connection, and every later local change is sent at once.
   */
  exchangedState(name: string): void {
    this.exchanged.add(name);
  }

  /** The server refused a change of body `name` (`read_only`). */
  refusedChange(name: string): void {
    this.refused.add(name);
  }

  /** Records a `save` sent for `docId` (`name`: its body, when it is one). */
  saveSent(docId: string, name: string | undefined, external: boolean): void {
    const covers = name !== undefined && this.exchanged.has(name) ? (this.changes.get(name) ?? 0) : undefined;
    const queue = this.saves.get(docId) ?? [];
    queue.push({ name, covers, external });
    this.saves.set(docId, queue);
  }

  /**
   * Handles a `saved` for `docId`; returns whether the application should see it (`Saved`): an
   * answer to its own request, or to one this session does not know of.
   */
  savedReceived(docId: string): boolean {
    const queue = this.saves.get(docId);
    const request = queue?.shift();
    if (queue?.length === 0) this.saves.delete(docId);
    if (request === undefined) return true;
    if (request.name !== undefined && request.covers !== undefined) {
      this.durable.set(request.name, Math.max(this.durable.get(request.name) ?? 0, request.covers));
    }
    return request.external;
  }

  /**
   * Whether body `name` (synced, not focused) may be released now: `release` when the server
   * confirmed every local change durable and it was idle for `idleMs`; `save` when a `save`
   * should be sent first; `keep` otherwise (state not exchanged on this connection, refused
   * change, recent activity, or a `save` already on its way).
   */
  decide(name: string, docId: string, now: number, idleMs: number): ReleaseDecision {
    if (this.refused.has(name) || !this.exchanged.has(name)) return 'keep';
    if (now - (this.lastActive.get(name) ?? now) < idleMs) return 'keep';
    const changes = this.changes.get(name) ?? 0;
    const durable = this.durable.get(name);
    if (durable !== undefined && durable >= changes) return 'release';
    const waiting = this.saves.get(docId)?.some((r) => r.name === name && r.covers === changes) ?? false;
    return waiting ? 'keep' : 'save';
  }

  /** Body `name` was released. */
  markReleased(name: string): void {
    this.releasedNames.add(name);
    this.exchanged.delete(name);
    this.lastActive.delete(name);
  }

  /** Whether body `name` is released. */
  isReleased(name: string): boolean {
    return this.releasedNames.has(name);
  }

  /** Body `name` is needed again; returns whether it was released. */
  reload(name: string, now: number): boolean {
    if (!this.releasedNames.delete(name)) return false;
    this.lastActive.set(name, now);
    return true;
  }

  /** Released body names. */
  released(): string[] {
    return [...this.releasedNames];
  }

  /** Drops what is known of body `name` (it moved to another name). */
  forget(name: string): void {
    this.changes.delete(name);
    this.durable.delete(name);
    this.exchanged.delete(name);
    this.lastActive.delete(name);
    this.refused.delete(name);
    this.releasedNames.delete(name);
  }
}
