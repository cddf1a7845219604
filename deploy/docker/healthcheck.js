// Docker HEALTHCHECK: GET http://127.0.0.1:$PORT/healthz must answer 200 within 2 s.
// Without PORT the app's default port is used, found from the container's command line.
'use strict';
const http = require('node:http');
const fs = require('node:fs');

const DEFAULT_PORTS = { gateway: 8080, 'doc-service': 8081, 'history-worker': 8090 };

function defaultPort() {
  try {
    const args = fs.readFileSync('/proc/1/cmdline', 'utf8').split('\0');
    for (const [app, port] of Object.entries(DEFAULT_PORTS)) if (args.includes(app)) return port;
  } catch {
    // not on Linux or /proc hidden: fall through
  }
  return DEFAULT_PORTS.gateway;
}

const port = Number(process.env.PORT || defaultPort());
const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
