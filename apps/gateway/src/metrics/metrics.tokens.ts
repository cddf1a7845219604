/**
 * Injection token of the gateway's {@link import('@diaryx-sync/runtime').DiaryxMetrics} (typed
 * handles of the shared metric catalogue). The prom-client `Registry` itself is injectable by its
 * class: `constructor(private readonly registry: Registry)`.
 */
export const DIARYX_METRICS = Symbol('DIARYX_METRICS');
