# One image for both apps; docker-compose.yml picks the entry point per service.

# Build: compile the apps with the dev toolchain.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY libs ./libs
COPY apps ./apps
RUN npm run build

# Production dependencies only, installed apart so no dev tool reaches the image.
FROM node:24-bookworm-slim AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# V8 heap sizes for a service process: an old-generation limit, which makes V8 collect
# before growing the heap, and a 16 MiB cap on the young generation's semi-spaces (V8
# sizes them from the heap limit otherwise). Measured on the API under POST load (10 s,
# 50 connections): peak RSS about 200 MiB with these, 270 with the limit alone, 375 with
# neither; the time spent collecting garbage was about 8-9 % of its
# CPU with these, 6-7 % with the default young generation and 11-13 % with 8 MiB. The
# limit leaves room: right after a load run the old generation held about 100 MiB,
# garbage included, and 1,000 open event streams add about 10 MiB. npm run bench runs
# ours with these settings. A deployment that sets its own limit (the Kubernetes
# manifests give 256 on the command line, which wins) keeps it.
ENV NODE_OPTIONS="--max-semi-space-size=16 --max-old-space-size=192"
# No package managers at run time: nothing installs or runs packages there, and fewer
# tools in the image means fewer for an intruder.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
    /opt/yarn-v* /usr/local/bin/yarn /usr/local/bin/yarnpkg \
  # Where the compose file's keygen service writes the demo key (a volume, owned by the app's user).
  && mkdir /demo-keys && chown node:node /demo-keys
WORKDIR /app
# The app's files belong to root: the process, running as `node`, can read them, never change them.
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY scripts/demo-key.mjs ./scripts/
# The official image's unprivileged user.
USER node
EXPOSE 3000
# Readiness of the API, the image's default command; compose gives the worker its own check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/api/apps/api/src/main.js"]
