#!/usr/bin/env bash
# Checks that the commands a make target runs are on PATH and new enough, before anything is built, so a
# newcomer gets one message naming what is missing, the version needed and how to install it (Debian package),
# instead of a failure deep inside npm, Go or a test. It checks presence and version only, nothing more.
# Usage: scripts/check-prerequisites.sh [command...]   (default: every command; exit 0 all fine, 1 otherwise)
set -uo pipefail

# command | minimum version | what needs it | how to install it
REQUIREMENTS=(
  "bash|4.0|the scripts and every make target|apt-get install bash"
  "node|18.0|bootstrapping: runs npm ci, which installs the pinned Node 24 into node_modules|apt-get install nodejs (or https://nodejs.org/)"
  "npm|7.0|installs the dependencies from package-lock.json (lockfile v3)|apt-get install npm"
  "go|1.26|builds the pinned test tools (etcd, kube-apiserver, registries, cosign, notation, helm, Flux)|https://go.dev/dl/ (Debian's golang-go is older than 1.26 on bookworm and trixie)"
  "openssl|1.1.1|generates the test certificates and keys at run time (-addext)|apt-get install openssl"
  "redis-server|6.0|Argo CD's cache in its end-to-end tests and bench (test/env/argocd.ts)|apt-get install redis-server"
  "gpg|2.2|Helm provenance tests: keys and .prov signatures made by the real GnuPG (test/env/gpg.ts)|apt-get install gnupg"
  "nginx|1.19.5|serves the HTTP Helm repositories of the tests and bench (test/env/nginx.ts; -e needs 1.19.5)|apt-get install nginx"
  "podman|4.3|builds and runs the container image in its test and make release (scripts/image.sh)|apt-get install podman"
  "runc|1.1|the OCI runtime the image test's podman uses (test/env/containers.conf)|apt-get install runc"
  "mmdebstrap|1.0|assembles the image's base stand-ins from Debian packages (scripts/image-bases.sh)|apt-get install mmdebstrap"
)

# Debian installs nginx and runc in /usr/sbin, which is not on a normal user's PATH; the tests run it from there.
# (TAGGUARD_SBIN stands in for /usr/sbin in the script's own test.)
SBIN="${TAGGUARD_SBIN:-/usr/sbin}"

# Prints where a command is: on PATH, or nginx in $SBIN. Fails when it is nowhere.
locate() {
  if command -v "$1" 2>/dev/null; then return 0; fi
  case "$1" in nginx | runc) [ -x "$SBIN/$1" ] && printf '%s\n' "$SBIN/$1" ;; *) return 1 ;; esac
}

# Prints the version of a command (name, path) as dotted numbers, or nothing when it cannot be read.
version_of() {
  local out
  case "$1" in
    bash) out="$(bash -c 'echo "${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}.${BASH_VERSINFO[2]}"' 2>/dev/null)" ;;
    node) out="$(node --version 2>/dev/null)" ;;
    npm) out="$(npm --version 2>/dev/null)" ;;
    go) out="$(go version 2>/dev/null)" && out="${out#go version go}" ;;
    # LibreSSL prints another name: its -addext support differs, so it is not read as OpenSSL.
    openssl) out="$(openssl version 2>/dev/null)" && [[ "$out" == OpenSSL\ * ]] && out="${out#OpenSSL }" || out="" ;;
    redis-server) out="$(redis-server --version 2>/dev/null)" && out="${out#*v=}" ;;
    gpg) out="$(gpg --version 2>/dev/null)" && out="${out%%$'\n'*}" ;;
    nginx) out="$("$2" -v 2>&1)" && out="${out#*nginx/}" ;;
    podman) out="$(podman --version 2>/dev/null)" && out="${out#podman version }" ;;
    runc) out="$("$2" --version 2>/dev/null)" && out="${out%%$'\n'*}" && out="${out#runc version }" ;;
    mmdebstrap) out="$(mmdebstrap --version 2>/dev/null)" && out="${out#mmdebstrap }" ;;
  esac
  [[ "$out" =~ ([0-9]+(\.[0-9]+)*) ]] && printf '%s' "${BASH_REMATCH[1]}"
}

# version_at_least have need: numeric compare of dotted versions (1.26 < 1.26.1 < 1.100); 1.1.1 as 1.1.1.
version_at_least() {
  local -a have need
  IFS=. read -r -a have <<<"$1"
  IFS=. read -r -a need <<<"$2"
  local i h n
  for ((i = 0; i < ${#need[@]}; i++)); do
    h="${have[i]:-0}" n="${need[i]}"
    ((10#$h > 10#$n)) && return 0
    ((10#$h < 10#$n)) && return 1
  done
  return 0
}

wanted=("$@")
for name in "${wanted[@]}"; do
  case " bash node npm go openssl redis-server gpg nginx " in *" $name "*) ;; *)
    printf 'check-prerequisites: unknown command %s (known: bash node npm go openssl redis-server gpg nginx)\n' "$name" >&2
    exit 2
    ;;
  esac
done

problems=0
for entry in "${REQUIREMENTS[@]}"; do
  IFS='|' read -r name min why install <<<"$entry"
  if ((${#wanted[@]} > 0)); then
    case " ${wanted[*]} " in *" $name "*) ;; *) continue ;; esac
  fi
  if ! where="$(locate "$name")" || [ -z "$where" ]; then
    printf 'prerequisite missing: %s (version %s or later) — %s.\n  install: %s\n' "$name" "$min" "$why" "$install" >&2
    problems=$((problems + 1))
    continue
  fi
  have="$(version_of "$name" "$where")"
  if [ -z "$have" ] || ! version_at_least "$have" "$min"; then
    printf 'prerequisite too old: %s %s found at %s, %s or later needed — %s.\n  install: %s\n' \
      "$name" "${have:-(version unreadable)}" "$where" "$min" "$why" "$install" >&2
    problems=$((problems + 1))
  fi
done

if ((problems > 0)); then
  printf 'See "Prerequisites" in README.md.\n' >&2
  exit 1
fi
exit 0
