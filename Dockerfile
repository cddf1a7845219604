# syntax=docker/dockerfile:1.7
#
# One image for every Diaryx Sync service. The first argument selects the app:
#   docker run diaryx-sync gateway          # node apps/gateway/dist/main.js        (PORT 8080)
#   docker run diaryx-sync doc-service      # node apps/doc-service/dist/main.js    (PORT 8081)
#   docker run diaryx-sync history-worker   # node apps/history-worker/dist/main.js (PORT 8090)
#   docker run diaryx-sync cli --help       # node apps/cli/dist/main.js
#   docker run diaryx-sync migrate          # node apps/gateway/dist/migrate.js: schema migrations, one shot
# Every service serves /healthz, /readyz and /metrics on $PORT (see deploy/README.md).
# Build locally: `npm run image` (docker build -t diaryx-sync:local .); CI: .github/workflows/image.yml.

# Node.js 24 LTS ("Krypton", supported until April 2028), pinned to a patch release; bump it with
# the release notes at hand (deploy/README.md "Images"). The code also runs on Node 20.19+/22 for
# local development (package.json engines).
ARG NODE_IMAGE=node:24.11.1-bookworm-slim

# ---- manifests: only the package.json files, so the dependency layers cache across code edits
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /manifests \
 && cp package.json package-lock.json /manifests/ \
 && find libs apps -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \;

# ---- build: all dependencies, compile TypeScript (tsc -b), collect every package's dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY libs ./libs
COPY apps ./apps
RUN npm run build \
 && mkdir -p /out \
 && find libs apps -mindepth 2 -maxdepth 2 -type d -name dist -exec cp -r --parents {} /out/ \; \
 && find /out -name '*.tsbuildinfo' -delete

# ---- runtime: production dependencies only, non-root, tini as PID 1
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
# BIND_HOST: the services bind loopback by default (npm start); in a container they must be
# reachable from other containers, probes and Prometheus.
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    BIND_HOST=0.0.0.0
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /out/ ./
COPY deploy/docker/entrypoint.sh deploy/docker/healthcheck.js /usr/local/lib/diaryx/
RUN chmod 0555 /usr/local/lib/diaryx/entrypoint.sh
# The node image's unprivileged user; numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 8080 8081 8090
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "/usr/local/lib/diaryx/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/lib/diaryx/entrypoint.sh"]
CMD ["gateway"]
