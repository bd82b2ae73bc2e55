# syntax=docker/dockerfile:1
# tagguard operator image: build on the full Node 24 image, run on node:24-slim as UID 65532 with a
# read-only root file system (only /tmp is written: an emptyDir in config/manager). The helm binary used to
# render charts comes from the alpine/helm image of the same version the tests pin (scripts/testbin.sh).
#   docker build -t tagguard:0.1.0 .
ARG NODE_VERSION=24.21.0
ARG HELM_VERSION=3.19.5

FROM node:${NODE_VERSION} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM alpine/helm:${HELM_VERSION} AS helm

FROM node:${NODE_VERSION}-slim
LABEL org.opencontainers.image.title="tagguard" \
      org.opencontainers.image.description="Kubernetes operator that protects GitOps auto-sync from mutated or untrusted OCI artifacts" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=helm /usr/bin/helm /usr/local/bin/helm
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Everything that wants a home or a cache (helm, npm) gets /tmp; nothing else is writable.
ENV NODE_ENV=production \
    HOME=/tmp \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
