import { addLossTotals, DeliveryLedger, emptyLossTotals } from '../src/stats/loss';

describe('DeliveryLedger', () => {
  it('counts each edit once per receiver and reports latency from the send time', () => {
    const ledger = new DeliveryLedger();
    ledger.sent(1, 0, 100, 2); // sender 0, two receivers
    expect(ledger.delivered(1, 1, 103)).toBe(3);
    expect(ledger.complete()).toBe(false);
    const completed: number[] = [];
    expect(ledger.delivered(1, 2, 110, (ms) => completed.push(ms))).toBe(10);
    expect(completed).toEqual([10]);
    expect(ledger.completedAt(1)).toBe(110);
    expect(ledger.complete()).toBe(true);
    expect(ledger.totals()).toMatchObject({
      editsSent: 1,
      deliveriesExpected: 2,
      deliveriesReceived: 2,
      missingDeliveries: 0,
      incompleteEdits: 0,
    });
  });

  it('reports missing deliveries and incomplete edits', () => {
    const ledger = new DeliveryLedger();
    ledger.sent(1, 0, 0, 3);
    ledger.sent(2, 1, 0, 3);
    ledger.delivered(1, 1, 1);
    ledger.delivered(1, 2, 1);
    ledger.delivered(1, 3, 1);
    ledger.delivered(2, 0, 1);
    const t = ledger.totals();
    expect(t.deliveriesExpected).toBe(6);
    expect(t.deliveriesReceived).toBe(4);
    expect(t.missingDeliveries).toBe(2);
    expect(t.incompleteEdits).toBe(1);
    expect(ledger.complete()).toBe(false);
    expect(ledger.completedAt(2)).toBeNaN();
  });

  it('does not count duplicates, echoes to the sender or unknown edits as deliveries', () => {
    const ledger = new DeliveryLedger();
    ledger.sent(1, 0, 0, 1);
    expect(ledger.delivered(1, 0, 5)).toBeNull(); // the sender's own edit echoed back
    expect(ledger.delivered(1, 1, 5)).toBe(5);
    expect(ledger.delivered(1, 1, 6)).toBeNull(); // duplicate
    expect(ledger.delivered(99, 1, 6)).toBeNull(); // never sent
    expect(ledger.totals()).toMatchObject({
      deliveriesReceived: 1,
      duplicateDeliveries: 1,
      echoes: 1,
      unknownDeliveries: 1,
      missingDeliveries: 0,
    });
  });

  it('sums totals of several ledgers', () => {
    const a = new DeliveryLedger();
    a.sent(1, 0, 0, 2);
    a.delivered(1, 1, 1);
    const b = new DeliveryLedger();
    b.sent(7, 0, 0, 3);
    const sum = addLossTotals(addLossTotals(emptyLossTotals(), a.totals()), b.totals());
    expect(sum).toMatchObject({
      editsSent: 2,
      deliveriesExpected: 5,
      deliveriesReceived: 1,
      missingDeliveries: 4,
      incompleteEdits: 2,
    });
  });
});
