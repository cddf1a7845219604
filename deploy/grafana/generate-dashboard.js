#!/usr/bin/env node
// Generates deploy/grafana/diaryx-sync.json (the Grafana dashboard over the diaryx_* metrics of
// libs/runtime/src/metrics.ts; each service exports its own part, SERVICE_METRIC_GROUPS there). Run: node deploy/grafana/generate-dashboard.js > deploy/grafana/diaryx-sync.json
'use strict';
const ds = { type: 'prometheus', uid: 'prometheus' };
let id = 1; let y = 0;
const panels = [];
function row(title) { panels.push({ type: 'row', title, id: id++, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] }); y += 1; x = 0; }
let x = 0;
function ts(title, targets, unit = 'short', w = 8, description) {
  if (x + w > 24) { x = 0; y += 8; }
  panels.push({
    type: 'timeseries', title, id: id++, datasource: ds, description,
    gridPos: { h: 8, w, x, y },
    fieldConfig: { defaults: { unit, custom: { lineWidth: 1, fillOpacity: 10 } }, overrides: [] },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: targets.map(([expr, legendFormat], i) => ({ datasource: ds, expr, legendFormat, refId: String.fromCharCode(65 + i) })),
  });
  x += w; if (x >= 24) { x = 0; y += 8; }
}
function stat(title, expr, unit = 'short', w = 4) {
  if (x + w > 24) { x = 0; y += 8; }
  panels.push({ type: 'stat', title, id: id++, datasource: ds, gridPos: { h: 4, w, x, y },
    fieldConfig: { defaults: { unit }, overrides: [] },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area' },
    targets: [{ datasource: ds, expr, refId: 'A' }] });
  x += w; if (x >= 24) { x = 0; y += 4; }
}
const q = (p, m, by) => `histogram_quantile(${p}, sum by (le${by ? ', ' + by : ''}) (rate(${m}_bucket[$__rate_interval])))`;
row('Overview');
stat('Connections', 'sum(diaryx_gateway_connections)');
stat('Gateways up', 'count(up{job="gateway"} == 1)');
stat('Doc services up', 'count(up{job="doc-service"} == 1)');
stat('Shards owned', 'sum(diaryx_shards_owned)');
stat('Docs loaded', 'sum(diaryx_docs_loaded)');
stat('Queued jobs', 'sum(max by (queue) (diaryx_queue_depth{state="waiting"}))');
row('Traffic');
ts('Connections per gateway', [['sum by (instance_id, endpoint) (diaryx_gateway_connections)', '{{instance_id}} {{endpoint}}']]);
ts('Frames in / out by type', [
  ['sum by (type) (rate(diaryx_gateway_frames_received_total[$__rate_interval]))', 'in {{type}}'],
  ['-sum by (type) (rate(diaryx_gateway_frames_sent_total[$__rate_interval]))', 'out {{type}}'],
], 'ops');
ts('Bytes in / out', [
  ['sum(rate(diaryx_gateway_bytes_received_total[$__rate_interval]))', 'in'],
  ['-sum(rate(diaryx_gateway_bytes_sent_total[$__rate_interval]))', 'out'],
], 'Bps');
ts('Docs subscribed per gateway', [['sum by (instance_id) (diaryx_gateway_docs_subscribed)', '{{instance_id}}']]);
ts('New connections', [['sum by (endpoint) (rate(diaryx_gateway_connections_opened_total[$__rate_interval]))', '{{endpoint}}']], 'ops');
ts('HTTP API requests', [['sum by (route, status) (rate(diaryx_http_request_duration_seconds_count[$__rate_interval]))', '{{route}} {{status}}']], 'reqps');
row('Latency');
ts('Update latency from gateway receive (p50/p95/p99)', ['0.5', '0.95', '0.99'].map((p) => [q(p, 'diaryx_update_stage_seconds', 'stage'), `p${Number(p) * 100} {{stage}}`]), 's', 12,
  'applied = shard applied it, persisted = durable in PostgreSQL (save barrier), delivered = written to a subscriber socket.');
ts('PostgreSQL append latency (p50/p99)', [[q('0.5', 'diaryx_pg_append_seconds'), 'p50'], [q('0.99', 'diaryx_pg_append_seconds'), 'p99']], 's', 6);
ts('HTTP latency p95 by route', [[q('0.95', 'diaryx_http_request_duration_seconds', 'route'), '{{route}}']], 's', 6);
ts('Doc load time (p95)', [[q('0.95', 'diaryx_doc_load_seconds'), 'p95']], 's');
ts('PostgreSQL append batch size (avg / p99)', [
  ['sum(rate(diaryx_pg_append_batch_size_sum[$__rate_interval])) / sum(rate(diaryx_pg_append_batch_size_count[$__rate_interval]))', 'avg'],
  [q('0.99', 'diaryx_pg_append_batch_size'), 'p99'],
]);
ts('Event-loop delay p99 by instance', [['max by (service, instance_id) (nodejs_eventloop_lag_p99_seconds)', '{{service}} {{instance_id}}']], 's');
row('Errors');
ts('Close codes', [['sum by (code) (rate(diaryx_gateway_closes_total[$__rate_interval]))', '{{code}}']], 'ops');
ts('Auth failures', [
  ['sum by (reason) (rate(diaryx_gateway_auth_failures_total[$__rate_interval]))', '{{reason}}'],
  ['sum by (outcome) (rate(diaryx_gateway_admin_logins_total{outcome!="succeeded"}[$__rate_interval]))', '/ops login {{outcome}}'],
], 'ops');
ts('Dropped frames, retries, resyncs', [
  ['sum by (reason) (rate(diaryx_gateway_frames_dropped_total[$__rate_interval]))', 'dropped {{reason}}'],
  ['sum(rate(diaryx_gateway_forward_retries_total[$__rate_interval]))', 'forward retries'],
  ['sum(rate(diaryx_gateway_resyncs_total[$__rate_interval]))', 'resyncs (1013)'],
  ['sum(rate(diaryx_pg_append_failures_total[$__rate_interval]))', 'PostgreSQL append failures'],
], 'ops');
row('Shards');
ts('Shards owned per doc service', [['sum by (instance_id) (diaryx_shards_owned)', '{{instance_id}}'], ['sum(diaryx_shards_owned)', 'total']]);
ts('Shard rebalances', [['sum by (event) (increase(diaryx_shard_rebalances_total[$__rate_interval]))', '{{event}}']]);
ts('Docs loaded / updates applied', [
  ['sum by (instance_id) (diaryx_docs_loaded)', 'loaded {{instance_id}}'],
  ['sum(rate(diaryx_updates_applied_total[$__rate_interval]))', 'updates/s'],
  ['sum(rate(diaryx_doc_loads_total[$__rate_interval]))', 'loads/s'],
  ['sum(rate(diaryx_doc_unloads_total[$__rate_interval]))', 'unloads/s'],
]);
ts('Tenant inbox depth (fair queues)', [
  ['topk(10, sum by (tenant) (diaryx_tenant_inbox_depth))', '{{tenant}}'],
  ['sum(rate(diaryx_tenant_inbox_dropped_total[$__rate_interval]))', 'dropped/s'],
]);
ts('Doc-service drops and bounds', [
  ['sum by (reason) (increase(diaryx_doc_pending_dropped_total[$__rate_interval]))', 'pending dropped {{reason}}'],
  ['sum(increase(diaryx_focus_list_truncated_total[$__rate_interval]))', 'focus lists truncated'],
  ['sum(increase(diaryx_workspace_deletions_total[$__rate_interval]))', 'workspaces deleted'],
  ['sum(increase(diaryx_doc_output_failures_total[$__rate_interval]))', 'outputs failed to publish'],
]);
ts('Versions running', [['count by (service, version) (diaryx_build_info)', '{{service}} {{version}}']]);
row('Queues');
ts('Queue depth', [['max by (queue, state) (diaryx_queue_depth)', '{{queue}} {{state}}']]);
ts('Job duration p95', [[q('0.95', 'diaryx_job_duration_seconds', 'queue'), '{{queue}}']], 's');
ts('Job failures', [['sum by (queue) (rate(diaryx_job_failures_total[$__rate_interval]))', '{{queue}}']], 'ops');
row('Health');
ts('Validation failures by check', [['sum by (check) (increase(diaryx_validation_failures_total[$__rate_interval]))', '{{check}}']]);
ts('Rebuilds and git commits', [
  ['sum by (outcome) (increase(diaryx_rebuilds_total[$__rate_interval]))', 'rebuild {{outcome}}'],
  ['sum(increase(diaryx_git_commits_total[$__rate_interval]))', 'git commits'],
]);
ts('Repairs in place and validation alerts', [
  ['sum by (kind) (increase(diaryx_repairs_total[$__rate_interval]))', 'repair {{kind}}'],
  ['sum(increase(diaryx_validation_alerts_total[$__rate_interval]))', 'alerts'],
]);
ts('Process memory / CPU', [
  ['sum by (service, instance_id) (process_resident_memory_bytes)', 'rss {{service}} {{instance_id}}'],
], 'bytes');
if (x > 0) { x = 0; y += 8; } // the panel above did not fill its line
row('Webhooks');
ts('Webhook deliveries by outcome', [
  ['sum by (outcome) (increase(diaryx_webhook_deliveries_total[$__rate_interval]))', '{{outcome}}'],
], 'short', 12, 'Delivery attempts: delivered (2xx), failed (retried later), gave_up (last attempt failed). Recent attempts are listed on /ops.');
ts('Webhook delivery latency', [
  [q('0.5', 'diaryx_webhook_delivery_seconds', 'outcome'), 'p50 {{outcome}}'],
  [q('0.95', 'diaryx_webhook_delivery_seconds', 'outcome'), 'p95 {{outcome}}'],
], 's', 12);
const dash = {
  uid: 'diaryx-sync', title: 'Diaryx Sync', tags: ['diaryx-sync'], timezone: 'browser', schemaVersion: 39, version: 1,
  editable: false, refresh: '10s', time: { from: 'now-1h', to: 'now' }, graphTooltip: 1,
  annotations: { list: [] }, templating: { list: [] }, panels,
};
process.stdout.write(JSON.stringify(dash, null, 2) + '\n');
