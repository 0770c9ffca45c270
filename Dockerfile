# Multi-stage build of the bridge worker and the admin service (one image, two entry points).
# Runs as the unprivileged `node` user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npx nest build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# A young generation twice the default size: the worker churns through short-lived kafkajs
# buffers, and collecting them half as often measured about 20 % less CPU per message for
# 25-40 MB more RSS under load (docs/performance.md). A maximum, reached only under load.
# Run with an empty NODE_OPTIONS where memory is tighter than CPU.
ENV NODE_OPTIONS=--max-semi-space-size=32
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
# The admin service's audit volume: a mount point missing from the image would be created
# root-owned, and the admin, running as node, could not open its audit log.
RUN mkdir -p /var/lib/bridge-admin && chown node:node /var/lib/bridge-admin
USER node
ENTRYPOINT ["node", "dist/apps/bridge/src/main.js"]
# A file the image has; mount your own directory and name its file instead (docs/deployment.md):
#   docker run -v "$PWD/conf:/etc/bridge:ro" mqtt-kafka-bridge:local run /etc/bridge/bridge.yaml
CMD ["run", "config/bridge.example.yaml"]
