/** Deploy validation tests (Dockerfile, docker-compose.yml, deploy/k8s, Grafana, /metrics, /ops). */
module.exports = require('../jest.preset.js')(__dirname, { testTimeout: 60000 });
