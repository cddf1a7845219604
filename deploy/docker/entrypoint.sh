#!/bin/sh
# Container entrypoint (runs under tini): the first argument selects the app to run.
# Apps: gateway | doc-service | history-worker | cli. Remaining arguments go to the app.
set -eu
app="${1:-gateway}"
[ "$#" -gt 0 ] && shift
case "$app" in
  gateway | doc-service | history-worker | cli)
    exec node "/app/apps/$app/dist/main.js" "$@"
    ;;
  *)
    echo "unknown app '$app'; expected one of: gateway, doc-service, history-worker, cli" >&2
    exit 64
    ;;
esac
