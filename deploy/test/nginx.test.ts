/**
 * deploy/nginx/nginx.conf keeps tokens out of its access log: the log format writes the path and
 * a query string whose `token` value is replaced (the map's regex is run here on real query
 * strings), never $request/$request_uri/$args; /metrics is not proxied.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './lib/apps';

const conf = fs.readFileSync(path.join(ROOT, 'deploy/nginx/nginx.conf'), 'utf8');

/** The `map $args $redacted_args { ... }` block, evaluated like nginx (first matching regex wins). */
function redactedArgs(args: string): string {
  const block = /map \$args \$redacted_args \{([\s\S]*?)\n\s*\}/.exec(conf)?.[1] ?? '';
  for (const m of block.matchAll(/^\s*'~([^']+)'\s+(.+);\s*$/gm)) {
    const re = new RegExp(m[1]);
    const hit = re.exec(args);
    if (hit) return m[2].replace(/\$\{?(\w+)\}?/g, (_, name: string) => hit.groups?.[name] ?? '');
  }
  return /^\s*default \$args;/m.test(block) ? args : '';
}

describe('deploy/nginx/nginx.conf', () => {
  it('the access log uses a format without the raw request line or query string', () => {
    const access = /^\s*access_log \/dev\/stdout (\w+);/m.exec(conf);
    expect(access?.[1]).toBe('redacted');
    const format = /log_format redacted ([\s\S]*?);\n/.exec(conf)?.[1] ?? '';
    expect(format).toContain('$redacted_args');
    for (const raw of ['$request ', '$request"', '$request_uri', '$args', '$query_string', '$arg_token'])
      expect([raw, format.includes(raw)]).toEqual([raw, false]);
    expect(conf.match(/^\s*access_log /gm)?.length).toBe(2); // the redacted one + `off` for the health check
  });

  it.each([
    ['token=eyJhbGciOi.eyJ0aWQi.sig', 'token=REDACTED'],
    ['doc=a&token=eyJ.x.y&v=2', 'doc=a&token=REDACTED&v=2'],
    ['token=eyJ.x.y&other=1', 'token=REDACTED&other=1'],
    ['notatoken=1', 'notatoken=1'],
    ['', ''],
  ])('redacts %j to %j', (args, expected) => {
    expect(redactedArgs(args)).toBe(expected);
  });

  it('does not proxy /metrics', () => {
    expect(conf).toMatch(/location \^~ \/metrics \{\s*return 404;\s*\}/);
  });
});
