#!/bin/sh
# Container entrypoint (runs under tini): the first argument selects the app to run.
# Apps: gateway | doc-service | history-worker | cli, plus the one-shot `migrate` command
# (schema migrations of every service, deploy/README.md "Upgrade"). Remaining arguments go to it.
set -eu
app="${1:-gateway}"
[ "$#" -gt 0 ] && shift
case "$app" in
  gateway | doc-service | history-worker | cli)
    exec node "/app/apps/$app/dist/main.js" "$@"
    ;;
  migrate)
    exec node /app/apps/gateway/dist/migrate.js "$@"
    ;;
  *)
    echo "unknown app '$app'; expected one of: gateway, doc-service, history-worker, cli, migrate" >&2
    exit 64
    ;;
esac
