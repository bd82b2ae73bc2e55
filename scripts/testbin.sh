#!/usr/bin/env bash
# Builds (or finds) every pinned tool the test environment needs and links it into .testbin/bin/.
# Tools are built from the Go module proxy and cached outside the repository, keyed by version, so a
# second run only re-links. KUBEBUILDER_ASSETS (a directory holding etcd and kube-apiserver) is honoured.
# Usage: scripts/testbin.sh [tool...]   (default: every tool)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tagguard"
bin="$root/.testbin/bin"
mkdir -p "$bin" "$cache/tools" "$cache/logs"

# name | version | how | package | output binary | extra -ldflags ({v} = version, {n} = without its "v"), so
# --version tells the truth
# how: "wrapper" builds the package from a throwaway module that requires it (go install pkg@version would
# also work for most, but it refuses modules with replace directives and needs a module listing that the
# proxy here does not always serve); "kubernetes" also pins the staging modules; "replaces" is "wrapper" plus
# the module's own non-local replace directives (Flux controllers pin go-digest and kustomize that way).
# The package may be below its module's root (Argo CD's is .../v3/cmd).
TOOLS=(
  "etcd|v3.6.16|wrapper|go.etcd.io/etcd/server/v3|etcd|"
  "kube-apiserver|v1.34.4|kubernetes|k8s.io/kubernetes/cmd/kube-apiserver|kube-apiserver|"
  "kubectl|v1.34.4|kubernetes|k8s.io/kubernetes/cmd/kubectl|kubectl|"
  "olareg|v0.1.2|wrapper|github.com/olareg/olareg/cmd/olareg|olareg|"
  "registry|v3.1.2|wrapper|github.com/distribution/distribution/v3/cmd/registry|registry|-X github.com/distribution/distribution/v3/version.version={v}"
  "cosign2|v2.6.5|wrapper|github.com/sigstore/cosign/v2/cmd/cosign|cosign|"
  "cosign|v3.1.3|wrapper|github.com/sigstore/cosign/v3/cmd/cosign|cosign|"
  "notation|v1.3.2|wrapper|github.com/notaryproject/notation/cmd/notation|notation|-X github.com/notaryproject/notation/internal/version.BuildMetadata="
  "oras|v1.3.6|wrapper|oras.land/oras/cmd/oras|oras|"
  "helm|v3.19.5|wrapper|helm.sh/helm/v3/cmd/helm|helm|-X helm.sh/helm/v3/internal/version.version={v}"
  "source-controller|v1.9.2|replaces|github.com/fluxcd/source-controller|source-controller|"
  "helm-controller|v1.6.4|replaces|github.com/fluxcd/helm-controller|helm-controller|"
  # The Flux release that pairs with source-controller v1.9.x (its go.mod requires source-controller/api v1.9.0).
  "kustomize-controller|v1.9.6|replaces|github.com/fluxcd/kustomize-controller|kustomize-controller|"
  # Argo CD: one binary that runs as each component by the name it is called with (the links in ARGOCD_LINKS).
  # 3.2.x is the newest line that builds from the module proxy: it requires gitops-engine as a module of its
  # own, while 3.5 and later replace it with a directory of their repository (=> ./gitops-engine) that module
  # downloads lack, and 3.6 needs Go 1.27. v3.2.12 does not compile (controller/cache calls
  # settings.ValidateExternalURL, which that tag does not define); v3.2.10 is not served; so v3.2.11.
  "argocd|v3.2.11|replaces|github.com/argoproj/argo-cd/v3/cmd|argocd|-X github.com/argoproj/argo-cd/v3/common.version={n}"
  # Prometheus and its promtool (module versions v0.3xx.y are Prometheus 3.xx.y, its VERSION file): `promtool test rules` unit-tests
  # the PrometheusRule's alerts, and the Prometheus server scrapes the operator in the alert end-to-end test. Built
  # without the `builtinassets` tag, so the server has its HTTP API but no web UI, which the tests do not need.
  "promtool|v0.316.0|wrapper|github.com/prometheus/prometheus/cmd/promtool|promtool|-X github.com/prometheus/common/version.Version=3.16.0"
  "prometheus|v0.316.0|wrapper|github.com/prometheus/prometheus/cmd/prometheus|prometheus|-X github.com/prometheus/common/version.Version=3.16.0"
  # The image's SBOM in `make release` (CycloneDX): syft reads the OCI archive's Debian package records
  # (/var/lib/dpkg/status.d, as distroless keeps them), the npm packages of node_modules and Go build info (helm).
  "syft|v1.57.2|wrapper|github.com/anchore/syft/cmd/syft|syft|-X main.version={n}"
  # Docker token auth server of the distribution project (htpasswd users, refresh tokens); cesanta/docker_auth
  # is not served by the module proxy here.
  "token-server|v2.8.3+incompatible|wrapper|github.com/docker/distribution/contrib/token-server|token-server|"
  # Which tag Flux picks for a semver range, with Flux's own libraries (versions pinned in its go.mod).
  "semver-oracle|v3.5.0|source|scripts/tools/semver-oracle|semver-oracle|"
  # What helm's chart loader reads from a .tgz (archive/tar + helm v3.19.5 pkg/chart/loader), for the archive fuzz.
  "chart-oracle|v3.19.5|source|scripts/tools/chart-oracle|chart-oracle|"
  # How helm, Flux and Argo CD read YAML (k8s.io/apimachinery's YAMLReader + sigs.k8s.io/yaml, as helm pins).
  "yaml-oracle|v1.6.0|source|scripts/tools/yaml-oracle|yaml-oracle|"
)

# The names the argocd binary is linked under in .testbin/bin (its main picks the component by that name).
ARGOCD_LINKS=(argocd-application-controller argocd-repo-server)

# Third-party CRDs that are not a pinned tool's own (the Flux controllers' come with their rows above):
# name | version | module | directory in the module | files (globs). Argo CD's are those of the release that
# runs in the tests (the argocd row above), so the API server stores exactly the fields its controller knows;
# the semver-oracle still imports Argo CD v3.5.1's util/versions, which has no CRDs to match.
# ApplicationSet is left out: tagguard does not read it, and its 1.4 MB CRD only slows the API server.
CRDS=(
  "argocd|v3.2.11|github.com/argoproj/argo-cd/v3|manifests/crds|application-crd.yaml appproject-crd.yaml"
)

log() { printf '[testbin] %s\n' "$*" >&2; }
fail() {
  log "FAILED: $1"
  [ -n "${2:-}" ] && [ -f "$2" ] && { tail -n 30 "$2" >&2; log "full log: $2"; }
  log "retry with: make testbin TOOLS=$1   (or: scripts/testbin.sh $1)"
  exit 1
}

# Copies CRD manifests out of a module of the Go module proxy into the cache, keyed by component and version
# (<cache>/crds/<name>-<version>-<recipe hash>/, with source.txt saying where they came from), and links them as
# .testbin/crds/<name>. A copy, not a link into the module cache, which `go clean -modcache` empties.
fetch_crds() { # name version module directory globs
  local name="$1" version="$2" module="$3" subdir="$4" globs="$5" dir moddir sum f n=0
  # Keyed by the recipe too (module, directory, globs), as the tools are, so a changed recipe never reuses a copy.
  dir="$cache/crds/$name-$version-$(printf '%s' "$module|$subdir|$globs" | sha256sum | cut -c1-8)"
  if [ ! -f "$dir/source.txt" ]; then
    local json
    json="$(cd "$cache" && go mod download -json "$module@$version")" || fail "$name" ""
    moddir="$(sed -n 's/.*"Dir": "\(.*\)".*/\1/p' <<<"$json")"
    sum="$(sed -n 's/.*"Sum": "\(.*\)".*/\1/p' <<<"$json")"
    [ -d "$moddir/$subdir" ] || { log "$module@$version has no $subdir"; fail "$name" ""; }
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    local g patterns
    read -r -a patterns <<<"$globs" # read splits without expanding the globs against the working directory
    for g in "${patterns[@]}"; do
      for f in "$moddir/$subdir"/$g; do
        if [ -f "$f" ]; then cp "$f" "$dir.tmp/" && n=$((n + 1)); fi
      done
    done
    [ "$n" -gt 0 ] || { log "no CRDs matched '$globs' in $module@$version/$subdir"; fail "$name" ""; }
    chmod -R u+w "$dir.tmp"
    printf 'module %s\nversion %s\nsum %s\ndirectory %s\n' "$module" "$version" "$sum" "$subdir" >"$dir.tmp/source.txt"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    log "$name $version: $n CRD files from $module/$subdir"
  fi
  mkdir -p "$root/.testbin/crds" && ln -sfn "$dir" "$root/.testbin/crds/$name"
}

command -v go >/dev/null 2>&1 || {
  log "Go is required to build the test tools (Go >= 1.26: see README). Install Go and run 'make testbin' again."
  exit 1
}

export GOFLAGS="-buildvcs=false -trimpath" CGO_ENABLED=0

# Builds a k8s.io/kubernetes command: its go.mod replaces the staging repositories with local paths, which
# go install refuses, so a wrapper module pins each staging module to the matching v0.x release.
build_kubernetes() { # version package out logfile (the version ldflags are its own)
  local version="$1" pkg="$2" out="$3" logf="$4" work minor staging
  work="$(mktemp -d)"
  minor="v0.${version#v1.}"
  (
    cd "$work"
    local gomod
    gomod="$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    staging="$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod")"
    {
      echo "module tagguard.local/testbin/kubernetes"
      echo "go 1.24.0"
      echo "replace ("
      for m in $staging; do echo "  $m => $m $minor"; done
      echo ")"
    } > go.mod
    go get "$pkg@$version"
    local date ldflags=""
    date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$(echo "$version" | cut -d. -f2)"
      ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
    done
    go build -ldflags "-s -w $ldflags" -o "$out" "$pkg"
  ) >"$logf" 2>&1
  local rc=$?
  rm -rf "$work"
  return $rc
}

build_wrapper() { # version package out logfile ldflags
  local version="$1" pkg="$2" out="$3" logf="$4" ldflags="${5//\{v\}/$1}" work
  ldflags="${ldflags//\{n\}/${1#v}}"
  work="$(mktemp -d)"
  (
    cd "$work"
    printf 'module tagguard.local/testbin/wrapper\ngo 1.24.0\n' > go.mod
    go get "$pkg@$version"
    go build -ldflags "-s -w $ldflags" -o "$out" "$pkg"
  ) >"$logf" 2>&1
  local rc=$?
  rm -rf "$work"
  return $rc
}

# Builds a package whose module root go.mod carries replace directives that a dependency build ignores: the
# non-local ones (module => module version) are copied into the wrapper; local ones (=> ./api) are dropped,
# the published submodule at the same version stands in for them.
build_replaces() { # version package out logfile ldflags
  local version="$1" pkg="$2" out="$3" logf="$4" ldflags="${5//\{v\}/$1}" work
  ldflags="${ldflags//\{n\}/${1#v}}"
  work="$(mktemp -d)"
  (
    cd "$work"
    printf 'module tagguard.local/testbin/replaces\ngo 1.24.0\n' > go.mod
    # The module is the longest prefix of the package path that the proxy serves at this version.
    local gomod="" module="$pkg"
    while [ -z "$gomod" ]; do
      gomod="$(go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')" || gomod=""
      if [ -z "$gomod" ]; then
        [[ "$module" == */*/* ]] || { echo "no module of $pkg at $version"; exit 1; }
        module="${module%/*}"
      fi
    done
    awk '/^replace \($/ { block = 1; next }
         block && /^\)/ { block = 0; next }
         block && $2 == "=>" && $3 !~ /^\.\.?\// { print "replace " $0; next }
         /^replace / && $3 == "=>" && $4 !~ /^\.\.?\// { print }' "$gomod" >> go.mod
    cat go.mod
    go get "$pkg@$version"
    go build -ldflags "-s -w $ldflags" -o "$out" "$pkg"
  ) >"$logf" 2>&1
  local rc=$?
  rm -rf "$work"
  return $rc
}

# Builds a main package kept in this repository (scripts/tools/<name>: main.go and go.mod without go.sum)
# from a throwaway copy, where go mod tidy writes the go.sum from the module proxy.
build_source() { # directory (relative to the repository) out logfile ldflags
  local src="$root/$1" out="$2" logf="$3" ldflags="$4" work
  work="$(mktemp -d)"
  (
    cp "$src"/*.go "$src"/go.mod "$work"/
    cd "$work"
    go mod tidy
    go build -ldflags "-s -w $ldflags" -o "$out" .
  ) >"$logf" 2>&1
  local rc=$?
  rm -rf "$work"
  return $rc
}

want=("$@")
if [ ${#want[@]} -eq 0 ] && [ -n "${TOOLS_ONLY:-}" ]; then read -r -a want <<<"$TOOLS_ONLY"; fi

for row in "${TOOLS[@]}"; do
  IFS='|' read -r name version how pkg binname ldflags <<<"$row"
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " =~ " $name " ]]; then continue; fi

  if [ -n "${KUBEBUILDER_ASSETS:-}" ] && { [ "$name" = etcd ] || [ "$name" = kube-apiserver ]; } \
     && [ -x "$KUBEBUILDER_ASSETS/$name" ]; then
    ln -sfn "$KUBEBUILDER_ASSETS/$name" "$bin/$name"
    log "$name: using KUBEBUILDER_ASSETS ($KUBEBUILDER_ASSETS/$name)"
    continue
  fi

  # Keyed by version and by the recipe (package, flags), so a changed recipe never reuses an old binary.
  # A tool built from this repository is keyed by its sources too.
  key="$row"
  [ "$how" = source ] && key+="$(cat "$root/$pkg"/*.go "$root/$pkg"/go.mod | sha256sum)"
  dir="$cache/tools/$name-$version-$(printf '%s' "$key" | sha256sum | cut -c1-8)"
  out="$dir/$binname"
  if [ ! -x "$out" ]; then
    mkdir -p "$dir"
    logf="$cache/logs/$name-$version.log"
    log "$name $version: building from the Go module proxy (log: $logf)"
    start=$SECONDS
    case "$how" in
      kubernetes) build_kubernetes "$version" "$pkg" "$out.tmp" "$logf" || fail "$name" "$logf" ;;
      wrapper) build_wrapper "$version" "$pkg" "$out.tmp" "$logf" "$ldflags" || fail "$name" "$logf" ;;
      replaces) build_replaces "$version" "$pkg" "$out.tmp" "$logf" "$ldflags" || fail "$name" "$logf" ;;
      source) build_source "$pkg" "$out.tmp" "$logf" "$ldflags" || fail "$name" "$logf" ;;
    esac
    mv "$out.tmp" "$out"
    log "$name $version: built in $((SECONDS - start))s"
  fi
  # A controller brings its own CRDs (config/crd/bases of the module it is built from), so the tests
  # install exactly the versions the controller was built with.
  if [ "$how" = replaces ] && [[ "$pkg" == github.com/fluxcd/* ]]; then
    fetch_crds "$name" "$version" "$pkg" config/crd/bases '*.fluxcd.io_*.yaml'
  fi
  ln -sfn "$out" "$bin/$name"
  if [ "$name" = argocd ]; then for link in "${ARGOCD_LINKS[@]}"; do ln -sfn "$out" "$bin/$link"; done; fi
done

for row in "${CRDS[@]}"; do
  IFS='|' read -r name version module subdir globs <<<"$row"
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " =~ " $name " ]]; then continue; fi
  fetch_crds "$name" "$version" "$module" "$subdir" "$globs"
done

log "tools linked into $bin, CRDs into $root/.testbin/crds"
