/**
 * Deadlines of many items (the token expiry of every connection of the gateway, close 4401) on
 * ONE timer: a binary min-heap by deadline, the timer armed for the earliest one. A `setTimeout`
 * per socket would cost a `Timeout`, its closure and, for each distinct duration, a timers list:
 * about 300 bytes of heap per idle connection.
 */

/** An item with a deadline; `expiryIndex` is maintained by the queue. */
export interface Expiring {
  /** Deadline (ms since the epoch). */
  readonly expiresAt: number;
  /** Position in its queue, -1 when not queued. Only {@link ExpiryQueue} writes it. */
  expiryIndex: number;
}

/** Largest delay `setTimeout` accepts (longer deadlines re-arm when the timer fires). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The timer fires this long after the earliest deadline, so that the deadline has passed. */
const LATE_MS = 5;

/** See module doc. */
export class ExpiryQueue<T extends Expiring> {
  private readonly heap: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Deadline the armed timer is for (Infinity when none is armed). */
  private armedFor = Infinity;
  private stopped = false;

  /** @param onExpired called once for an item whose deadline passed (it is no longer queued). */
  constructor(
    private readonly onExpired: (item: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Number of queued items. */
  get size(): number {
    return this.heap.length;
  }

  /** Queues `item` until its deadline (an item is queued at most once). */
  add(item: T): void {
    if (item.expiryIndex >= 0) return;
    item.expiryIndex = this.heap.length;
    this.heap.push(item);
    this.up(item.expiryIndex);
    this.arm();
  }

  /** Dequeues `item` (no-op when it is not queued). The timer stays armed; firing early is harmless. */
  remove(item: T): void {
    const i = item.expiryIndex;
    if (i < 0 || this.heap[i] !== item) return;
    item.expiryIndex = -1;
    const last = this.heap.pop()!;
    if (last === item) return;
    this.heap[i] = last;
    last.expiryIndex = i;
    this.down(i);
    this.up(last.expiryIndex);
  }

  /** Stops the timer for good (items stay queued but never expire). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const first = this.heap[0];
    if (this.stopped || !first || (this.timer && this.armedFor <= first.expiresAt)) return;
    clearTimeout(this.timer);
    this.armedFor = first.expiresAt;
    const delay = Math.min(Math.max(0, first.expiresAt - this.now()) + LATE_MS, MAX_TIMER_MS);
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const t = this.now();
    while (this.heap.length > 0 && this.heap[0].expiresAt <= t) {
      const item = this.heap[0];
      this.remove(item);
      this.onExpired(item);
    }
    this.arm();
  }

  private up(i: number): void {
    const { heap } = this;
    const item = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].expiresAt <= item.expiresAt) break;
      heap[i] = heap[parent];
      heap[i].expiryIndex = i;
      i = parent;
    }
    heap[i] = item;
    item.expiryIndex = i;
  }

  private down(i: number): void {
    const { heap } = this;
    const item = heap[i];
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1].expiresAt < heap[child].expiresAt) child++;
      if (heap[child].expiresAt >= item.expiresAt) break;
      heap[i] = heap[child];
      heap[i].expiryIndex = i;
      i = child;
    }
    heap[i] = item;
    item.expiryIndex = i;
  }
}
