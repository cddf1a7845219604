import { saturationVerdict } from '../src/stats/saturation';

describe('saturationVerdict', () => {
  it('is clean when the generator kept up and the machine had CPU left', () => {
    expect(
      saturationVerdict({
        generatorEventLoopDelayP99Ms: 3,
        machineCpuBusy: 0.6,
        editsScheduled: 1000,
        editsSent: 995,
      }),
    ).toEqual({
      saturated: false,
      reasons: [],
    });
  });

  it('blames the load generator when its event-loop delay p99 is over 10 ms', () => {
    const v = saturationVerdict({ generatorEventLoopDelayP99Ms: 12.5, machineCpuBusy: 0.5 });
    expect(v.saturated).toBe(true);
    expect(v.reasons).toHaveLength(1);
    expect(v.reasons[0]).toMatch(/event-loop delay p99 12\.5 ms > 10 ms/);
  });

  it('blames the machine when its CPU was over 90 % busy', () => {
    const v = saturationVerdict({ generatorEventLoopDelayP99Ms: 1, machineCpuBusy: 0.97 });
    expect(v.saturated).toBe(true);
    expect(v.reasons[0]).toMatch(/machine CPU 97 % busy/);
  });

  it('flags a generator that could not send its schedule, and lists every reason', () => {
    const v = saturationVerdict({
      generatorEventLoopDelayP99Ms: 50,
      machineCpuBusy: 1,
      editsScheduled: 1000,
      editsSent: 700,
    });
    expect(v.reasons).toHaveLength(3);
    expect(v.reasons[2]).toMatch(/sent 700 of 1000 scheduled edits/);
  });

  it('honours custom limits', () => {
    const v = saturationVerdict(
      { generatorEventLoopDelayP99Ms: 4, machineCpuBusy: 0.5 },
      { eventLoopDelayP99Ms: 2, machineCpuBusy: 0.9, scheduleKept: 0.9 },
    );
    expect(v.saturated).toBe(true);
  });
});
