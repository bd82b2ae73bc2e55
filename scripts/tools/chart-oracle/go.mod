module tagguard.local/tools/chart-oracle

go 1.26.0

// helm v3.19.5: the version scripts/testbin.sh builds and the test suite renders with.
require helm.sh/helm/v3 v3.19.5
