#!/usr/bin/env bash
# Builds the tagguard image from the Dockerfile with podman (daemonless; `docker build` works the same way).
#   scripts/image.sh [--bases public|debian] [--tag IMAGE] [--oci-archive FILE]
#   --bases public   the Dockerfile's default bases (node:24, distroless nodejs24, alpine/helm), pulled
#   --bases debian   stand-ins assembled from Debian packages by scripts/image-bases.sh (no pull; default when
#                    TAGGUARD_IMAGE_BASES=debian, as in the tests and on machines that cannot reach those registries)
#   --tag            the image name (default localhost/tagguard:<package.json version>)
#   --oci-archive    also write the image as an OCI layout in a tar file (what `make release` ships)
# podman settings come from $CONTAINERS_CONF when set (the tests use test/env/containers.conf). docs/image.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="$(node -p 'require("./package.json").version')"
bases="${TAGGUARD_IMAGE_BASES:-public}"
tag="localhost/tagguard:$version"
archive=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bases) bases="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --oci-archive) archive="$2"; shift 2 ;;
    *) echo "usage: scripts/image.sh [--bases public|debian] [--tag IMAGE] [--oci-archive FILE]" >&2; exit 2 ;;
  esac
done
command -v podman >/dev/null || { echo "[image] podman is missing: apt-get install podman (README Prerequisites)" >&2; exit 1; }

args=()
case "$bases" in
  public) pull=missing ;;
  debian)
    pull=never
    while IFS= read -r line; do args+=(--build-arg "$line"); done < <(scripts/image-bases.sh)
    ;;
  *) echo "[image] --bases must be public or debian" >&2; exit 2 ;;
esac
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
# --network=host: the build stage runs `npm ci`, the only step that downloads anything.
podman build --pull="$pull" --network=host "${args[@]}" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "dev.tagguard.image.bases=$bases" \
  --tag "$tag" --file Dockerfile . >&2
if [ -n "$archive" ]; then
  rm -f "$archive"
  podman save --quiet --format oci-archive --output "$archive" "$tag"
fi
echo "$tag"
