module tagguard.local/tools/semver-oracle

go 1.26.0

// Flux mode: the versions fluxcd/source-controller v1.9.2 (the one scripts/testbin.sh builds) pins in its
// go.mod. Argo CD modes: Argo CD v3.5.1 itself, whose util/versions package is called as is; it pins
// Masterminds/semver v3.4.0, which this one build raises to Flux's v3.5.0 (see argocd.go).
require (
	github.com/Masterminds/semver/v3 v3.5.0
	github.com/argoproj/argo-cd/v3 v3.5.1
	github.com/fluxcd/pkg/version v0.16.0
	oras.land/oras-go/v2 v2.6.1
)
