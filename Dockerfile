# syntax=docker/dockerfile:1
# tagguard operator image: compiled on Node 24, run on distroless Node 24 (no shell, no package manager) as
# UID 65532 with a read-only root file system (only /tmp is written: an emptyDir in config/manager). The helm
# binary that renders charts comes from the alpine/helm image of the version the tests pin (scripts/testbin.sh).
#   docker build -t tagguard:0.1.0 .        (or podman build / buildah bud)
# The three bases are build arguments so that a machine that cannot pull them can supply equivalents; the tests
# do, with bases assembled from Debian packages (scripts/image-bases.sh, docs/image.md).
ARG BUILD_BASE=docker.io/library/node:24.21.0-bookworm
ARG RUNTIME_BASE=gcr.io/distroless/nodejs24-debian12:nonroot
ARG HELM_BASE=docker.io/alpine/helm:3.19.5

FROM ${BUILD_BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency runs code while the image is built. None of the runtime dependencies needs an
# install script; the devDependencies that have one (the `node` binary package, a native XML parser of the SBOM
# generator) are not used by the build.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${HELM_BASE} AS helm

FROM ${RUNTIME_BASE}
LABEL org.opencontainers.image.title="tagguard" \
      org.opencontainers.image.description="Kubernetes operator that protects GitOps auto-sync from mutated or untrusted OCI and Helm artifacts" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=helm /usr/bin/helm /usr/local/bin/helm
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Everything that wants a home or a cache (helm) gets /tmp; nothing else is writable.
ENV NODE_ENV=production \
    HOME=/tmp \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data
USER 65532:65532
EXPOSE 8080 8081
# distroless keeps Node at /nodejs/bin/node; exec form, as there is no shell.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli/main.js"]
CMD ["run"]
