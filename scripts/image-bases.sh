#!/usr/bin/env bash
# Assembles, from Debian bookworm packages and the Node 24 this repository pins, stand-ins for the three public
# base images the Dockerfile names, which cannot be pulled on machines without Docker Hub or gcr.io, and imports
# them into podman's storage. What differs from the public images: docs/image.md "The test bases".
#   build    ~ node:24-bookworm              minbase Debian + /usr/local/bin/node + npm (a shell, for RUN)
#   runtime  ~ distroless/nodejs24-debian12  libc, libstdc++, CA certificates, tzdata, /nodejs/bin/node, no shell
#   helm     ~ alpine/helm                   /usr/bin/helm (the pinned helm of .testbin) and nothing else
# Each is cached as a tarball in ~/.cache/tagguard/images/ keyed by its recipe, so a second run only re-imports
# (or finds the image already in storage). Prints the build arguments for the Dockerfile, one per line:
#   BUILD_BASE=localhost/tagguard-base/build:<key>   (and RUNTIME_BASE=…, HELM_BASE=…)
# Needs root (mmdebstrap's root mode writes device nodes and owners), mmdebstrap, podman, and `make testbin helm`.
# Usage: scripts/image-bases.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tagguard/images"
mkdir -p "$cache"

SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# npm for the build base: the release the Node 24 line ships with, from the npm registry.
NPM_VERSION=11.19.1
NODE="$root/node_modules/node/bin/node"
HELM="$root/.testbin/bin/helm"
# What distroless's nodejs image holds besides Node (its base-nossl + cc layers): glibc, the C++ runtime, the
# Mozilla CA bundle, time zones, /etc/services & co., and base-files for /etc/os-release (image scanners and
# syft name the Debian packages by it) and the licences.
RUNTIME_PACKAGES=base-files,libc6,libgcc-s1,libstdc++6,ca-certificates,tzdata,netbase
# The build base runs `npm ci --ignore-scripts` and tsc: a shell and coreutils, nothing to compile.
BUILD_PACKAGES=ca-certificates
HOST_CA_BUNDLE="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[image-bases] %s\n' "$*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap root mode, podman storage of root); CI runs as root"
for tool in mmdebstrap podman; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install podman mmdebstrap (README Prerequisites)"
done
[ -x "$NODE" ] || die "$NODE is missing: make deps"
[ -x "$HELM" ] || die "$HELM is missing: make testbin TOOLS=helm"

node_version="$("$NODE" --version)"
helm_version="$("$HELM" version --template '{{.Version}}')"
# The recipe key: this script, the tool versions and binaries, so any change makes a new base.
recipe_key() { # name
  {
    cat "${BASH_SOURCE[0]}"
    printf '%s\n' "$1" "$SUITE" "$MIRROR" "$NPM_VERSION" "$node_version" "$helm_version"
    sha256sum "$NODE" "$HELM" | cut -d' ' -f1
    # Only the build base carries the machine's CA bundle.
    if [ "$1" = build ]; then sha256sum "$HOST_CA_BUNDLE" | cut -d' ' -f1; fi
  } | sha256sum | cut -c1-12
}

# Writes the root file system's users: root, nobody and nonroot (65532) as distroless has them.
write_users() { # rootfs
  local fs="$1"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$fs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$fs/etc/group"
  install -d -m 0700 -o 0 -g 0 "$fs/root"
  install -d -m 0700 -o 65532 -g 65532 "$fs/home/nonroot"
  install -d -m 1777 "$fs/tmp"
}

# mmdebstrap's extract variant unpacks the packages (and their dependencies) without running a maintainer
# script, so no shell is needed or installed. The extract hook (this variant runs no customize hook) records
# each package's control fields in /var/lib/dpkg/status.d/ (where distroless keeps them, so image scanners and
# the release SBOM see the packages) before the apt cache is cleaned.
build_runtime() { # rootfs
  local fs="$1"
  mmdebstrap --quiet --variant=extract --include="$RUNTIME_PACKAGES" --format=directory \
    --extract-hook='mkdir -p "$1/var/lib/dpkg/status.d" && for deb in "$1"/var/cache/apt/archives/*.deb; do dpkg-deb --field "$deb" > "$1/var/lib/dpkg/status.d/$(dpkg-deb --field "$deb" Package)"; done' \
    "$SUITE" "$fs" "$MIRROR" >&2
  [ -s "$fs/var/lib/dpkg/status.d/libc6" ] || die "no package records in /var/lib/dpkg/status.d"
  # What the extract pulled in for maintainer scripts (debconf, mawk, perl modules, openssl's CLI) goes; the
  # packages only there for those scripts go with their records: debconf, and mawk (base-files's awk).
  rm -rf "$fs"/usr/bin/* "$fs"/usr/sbin/* "$fs"/usr/lib/ssl/misc \
    "$fs"/var/lib/dpkg/status.d/{debconf,mawk} "$fs"/usr/share/{man,lintian,perl5,debconf,bash-completion,gdb,pixmaps,gcc,info,base-files,menu} \
    "$fs"/etc/{debconf.conf,apt,dpkg,hostname,resolv.conf,update-motd.d} "$fs"/var/cache/* "$fs"/var/lib/apt "$fs"/var/log/*
  # Each package's copyright file stays (distroless keeps them too); the rest of the documentation goes.
  find "$fs/usr/share/doc" -type f ! -name copyright -delete
  find "$fs/usr/share/doc" -type l -delete
  find "$fs/usr/share/doc" -mindepth 1 -type d -empty -delete
  # What update-ca-certificates (a shell script, not run) would write: the Mozilla bundle in one file.
  mkdir -p "$fs/etc/ssl/certs"
  find "$fs/usr/share/ca-certificates/mozilla" -name '*.crt' | LC_ALL=C sort | xargs cat >"$fs/etc/ssl/certs/ca-certificates.crt"
  install -D -m 0755 "$NODE" "$fs/nodejs/bin/node"
  write_users "$fs"
  ldconfig -r "$fs"
  if find "$fs" \( -name sh -o -name bash -o -name dash -o -name busybox \) | grep -q .; then die "a shell is in the runtime base"; fi
}

build_build() { # rootfs
  local fs="$1" npm
  mmdebstrap --quiet --variant=minbase --include="$BUILD_PACKAGES" --format=directory "$SUITE" "$fs" "$MIRROR" >&2
  install -D -m 0755 "$NODE" "$fs/usr/local/bin/node"
  npm="$(mktemp -d)"
  (cd "$npm" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$fs/usr/local/lib/node_modules/npm"
  tar -xzf "$npm"/npm-*.tgz --strip-components=1 -C "$fs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$fs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$fs/usr/local/bin/npx"
  rm -rf "$npm" "$fs"/var/cache/apt/* "$fs"/var/lib/apt/lists/*
  # The build stage downloads the npm packages: it trusts what this machine trusts (which may include the CA of
  # a TLS-intercepting egress proxy), as `docker build` here would have to. Only the build base: the runtime
  # base keeps Debian's Mozilla bundle.
  cp "$HOST_CA_BUNDLE" "$fs/etc/ssl/certs/ca-certificates.crt"
}

build_helm() { # rootfs
  install -D -m 0755 "$HELM" "$1/usr/bin/helm"
}

# One run at a time (the image and release tests build at the same time): a tarball is never half written or
# imported twice.
exec 9>"$cache/.lock"
flock 9
for name in build runtime helm; do
  key="$(recipe_key "$name")"
  image="localhost/tagguard-base/$name:$key"
  tarball="$cache/$name-$key.tar"
  if ! podman image exists "$image"; then
    if [ ! -f "$tarball" ]; then
      log "$name: assembling (Debian $SUITE, node $node_version, npm $NPM_VERSION, helm $helm_version)"
      start=$SECONDS
      fs="$(mktemp -d)"
      "build_$name" "$fs"
      tar --numeric-owner --sort=name -C "$fs" -cf "$tarball.tmp" .
      rm -rf "$fs"
      mv "$tarball.tmp" "$tarball"
      # Earlier recipes' tarballs go (under the lock, so never one another run is about to import). Their images
      # stay: a build of another checkout may be using them right now.
      find "$cache" -maxdepth 1 -name "$name-*.tar" ! -name "$name-$key.tar" -delete
      log "$name: assembled in $((SECONDS - start))s ($(du -h "$tarball" | cut -f1))"
    fi
    changes=(--change "ENV PATH=$PATH_ENV" --change "LABEL org.opencontainers.image.description=\"tagguard test base ($name)\"")
    [ "$name" = build ] && changes+=(--change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")
    [ "$name" = runtime ] && changes+=(--change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" --change "USER 65532:65532" --change "WORKDIR /home/nonroot")
    [ "$name" = helm ] && changes+=(--change 'ENTRYPOINT ["/usr/bin/helm"]')
    podman import --quiet "${changes[@]}" "$tarball" "$image" >/dev/null
  fi
  printf '%s_BASE=%s\n' "${name^^}" "$image"
done
