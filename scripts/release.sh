#!/usr/bin/env bash
# make release: the release files of the version in package.json, in dist/release/<version>/ (or $1):
#   tagguard-<version>.tgz            the Helm chart (helm package charts/tagguard)
#   install.yaml                      the kustomize output of config/default (CRD, RBAC, Deployment, Service)
#   tagguard-<version>.cdx.json       CycloneDX 1.6 SBOM of the application both deploy: the npm packages of
#                                     the image's node_modules (production dependencies), by cyclonedx-npm
#   tagguard-<version>.oci.tar        the image (scripts/image.sh) as an OCI layout in a tar file
#   tagguard-<version>.oci.cdx.json   CycloneDX 1.6 SBOM of the image by syft: Debian packages, Node, npm
#                                     packages, helm
#   SHA256SUMS                        sha256sum of each, ready to be signed (cosign sign-blob, gpg)
# The image's bases: TAGGUARD_IMAGE_BASES=public (default, pulled) or debian (docs/image.md). docs/release.md.
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
scripts/testbin.sh helm kubectl syft >/dev/null
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
image="$(scripts/image.sh --tag "localhost/tagguard:$version" --oci-archive "$out/tagguard-$version.oci.tar")"
# syft reads the archive itself (no daemon): the layers' Debian package records, node_modules, Go build info.
SYFT_CHECK_FOR_APP_UPDATE=false .testbin/bin/syft scan --quiet "oci-archive:$out/tagguard-$version.oci.tar" \
  --source-name tagguard --source-version "$version" \
  --output "cyclonedx-json@1.6=$out/tagguard-$version.oci.cdx.json"
(cd "$out" && sha256sum "tagguard-$version.tgz" install.yaml "tagguard-$version.cdx.json" \
  "tagguard-$version.oci.tar" "tagguard-$version.oci.cdx.json" >SHA256SUMS)
echo "image $image saved as tagguard-$version.oci.tar (podman load -i, docker load -i, skopeo copy oci-archive:)"
echo "release $version in $out:"
sed 's/^/  /' "$out/SHA256SUMS"
