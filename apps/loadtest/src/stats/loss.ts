/**
 * Loss accounting of the fan-out scenarios: every edit is expected once at every other client of
 * its doc. `DeliveryLedger` counts, per edit, the receivers still missing, so that at the end the
 * run knows exactly how many deliveries were lost or duplicated and which edits never reached
 * everyone.
 */

/** Totals of a {@link DeliveryLedger} (summed over workers with {@link addLossTotals}). */
export interface LossTotals {
  editsSent: number;
  deliveriesExpected: number;
  deliveriesReceived: number;
  /** A receiver saw the same edit more than once (harmless for a CRDT; counted, not lost). */
  duplicateDeliveries: number;
  /** Deliveries of edits this ledger never sent (another run's doc, or a corrupted marker). */
  unknownDeliveries: number;
  /** The sender got its own edit back (the y-websocket server echoes updates); not a delivery. */
  echoes: number;
  /** deliveriesExpected − deliveriesReceived. */
  missingDeliveries: number;
  /** Edits that did not reach every other client. */
  incompleteEdits: number;
}

interface EditRecord {
  sentAt: number;
  sender: number;
  receivers: number;
  /** Receiver ids that saw the edit (small: clients per doc). */
  seenBy: Set<number>;
  lastArrival: number;
}

/** Ledger of edits sent and their deliveries, on one thread's clock. */
export class DeliveryLedger {
  private readonly edits = new Map<number, EditRecord>();
  private duplicates = 0;
  private unknown = 0;
  private echoes = 0;
  private received = 0;
  private expected = 0;

  /** Registers edit `id` sent by client `sender` at `sentAt` (ms) that `receivers` other clients must see. */
  sent(id: number, sender: number, sentAt: number, receivers: number): void {
    this.edits.set(id, { sentAt, sender, receivers, seenBy: new Set(), lastArrival: NaN });
    this.expected += receivers;
  }

  /**
   * Records the arrival of edit `id` at client `receiver` at `now`; returns the delivery
   * latency (ms), or null for a duplicate, an echo to its sender or an unknown edit. `onComplete` gets the latency to the
   * last receiver once every receiver has the edit.
   */
  delivered(
    id: number,
    receiver: number,
    now: number,
    onComplete?: (allArrivedMs: number) => void,
  ): number | null {
    const edit = this.edits.get(id);
    if (!edit) {
      this.unknown++;
      return null;
    }
    if (edit.sender === receiver) {
      this.echoes++;
      return null;
    }
    if (edit.seenBy.has(receiver)) {
      this.duplicates++;
      return null;
    }
    edit.seenBy.add(receiver);
    this.received++;
    edit.lastArrival = now;
    if (edit.seenBy.size === edit.receivers) onComplete?.(now - edit.sentAt);
    return now - edit.sentAt;
  }

  /** Counts a marker that is not an edit of the receiver's doc (see {@link LossTotals.unknownDeliveries}). */
  unknownDelivery(): void {
    this.unknown++;
  }

  /** Send time of edit `id` (ms), or undefined. */
  sentAt(id: number): number | undefined {
    return this.edits.get(id)?.sentAt;
  }

  /** Time (ms) when the last receiver got edit `id`, NaN while incomplete. */
  completedAt(id: number): number {
    const edit = this.edits.get(id);
    return edit && edit.seenBy.size === edit.receivers ? edit.lastArrival : NaN;
  }

  /** True when every sent edit reached all of its receivers. */
  complete(): boolean {
    return this.received === this.expected;
  }

  totals(): LossTotals {
    let incomplete = 0;
    for (const edit of this.edits.values()) if (edit.seenBy.size < edit.receivers) incomplete++;
    return {
      editsSent: this.edits.size,
      deliveriesExpected: this.expected,
      deliveriesReceived: this.received,
      duplicateDeliveries: this.duplicates,
      unknownDeliveries: this.unknown,
      echoes: this.echoes,
      missingDeliveries: this.expected - this.received,
      incompleteEdits: incomplete,
    };
  }
}

/** The empty totals. */
export function emptyLossTotals(): LossTotals {
  return {
    editsSent: 0,
    deliveriesExpected: 0,
    deliveriesReceived: 0,
    duplicateDeliveries: 0,
    unknownDeliveries: 0,
    echoes: 0,
    missingDeliveries: 0,
    incompleteEdits: 0,
  };
}

/** Field-wise sum of two totals. */
export function addLossTotals(a: LossTotals, b: LossTotals): LossTotals {
  return {
    editsSent: a.editsSent + b.editsSent,
    deliveriesExpected: a.deliveriesExpected + b.deliveriesExpected,
    deliveriesReceived: a.deliveriesReceived + b.deliveriesReceived,
    duplicateDeliveries: a.duplicateDeliveries + b.duplicateDeliveries,
    unknownDeliveries: a.unknownDeliveries + b.unknownDeliveries,
    echoes: a.echoes + b.echoes,
    missingDeliveries: a.missingDeliveries + b.missingDeliveries,
    incompleteEdits: a.incompleteEdits + b.incompleteEdits,
  };
}
