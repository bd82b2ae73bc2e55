#!/usr/bin/env bash
# make release: the release files of the version in package.json, in dist/release/<version>/ (or $1):
#   tagguard-<version>.tgz          the Helm chart (helm package charts/tagguard)
#   install.yaml                    the kustomize output of config/default (CRD, RBAC, Deployment, Service)
#   tagguard-<version>.cdx.json     CycloneDX 1.6 SBOM of the application both deploy: the npm packages of
#                                   the image's node_modules (production dependencies), by cyclonedx-npm
#   SHA256SUMS                      sha256sum of each, ready to be signed (cosign sign-blob, gpg)
# Not yet: the image tarball (OCI layout). Building the image is issue 19's first item; until then the
# chart and install.yaml name the image tagguard:<version> that `podman build` of the Dockerfile makes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="$(node -p 'require("./package.json").version')"
chart_version="$(sed -n 's/^version: //p' charts/tagguard/Chart.yaml)"
if [ "$chart_version" != "$version" ]; then
  echo "release: charts/tagguard/Chart.yaml says version $chart_version, package.json $version" >&2
  exit 1
fi
out="${1:-$root/dist/release/$version}"
rm -rf "$out" && mkdir -p "$out"
scripts/testbin.sh helm kubectl >/dev/null
.testbin/bin/helm lint --strict charts/tagguard >/dev/null
.testbin/bin/helm package charts/tagguard --destination "$out" >/dev/null
.testbin/bin/kubectl kustomize config/default >"$out/install.yaml"
# --omit dev: what `npm ci --omit=dev` puts in the image. The lock file decides the versions.
node_modules/.bin/cyclonedx-npm --omit dev --output-format JSON --output-reproducible \
  --output-file "$out/tagguard-$version.cdx.json" >/dev/null 2>"$out/.cyclonedx.log" || {
  cat "$out/.cyclonedx.log" >&2
  exit 1
}
rm -f "$out/.cyclonedx.log"
(cd "$out" && sha256sum "tagguard-$version.tgz" install.yaml "tagguard-$version.cdx.json" >SHA256SUMS)
echo "release $version in $out:"
sed 's/^/  /' "$out/SHA256SUMS"
