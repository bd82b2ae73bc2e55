module tagguard.local/tools/semver-oracle

go 1.26.0

// The versions fluxcd/source-controller v1.9.2 (the one scripts/testbin.sh builds) pins in its go.mod.
require (
	github.com/Masterminds/semver/v3 v3.5.0
	github.com/fluxcd/pkg/version v0.16.0
)
