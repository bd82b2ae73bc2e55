#!/usr/bin/env bash
# Copies what charts/tagguard shares with the kustomize bases into the chart (its CRD, the RBAC rules, the
# alerts, the Grafana dashboard), so the chart never restates them, then regenerates the values table of its
# README. `make chart` runs it; test/chart/sync.test.ts fails when a copy or the table is stale.
set -euo pipefail
cd "$(dirname "$0")/.."

chart=charts/tagguard
mkdir -p "$chart/crds" "$chart/files"
cp crds/tagguard.dev_artifactverifications.yaml "$chart/crds/"
cp config/rbac/cluster-role.yaml "$chart/files/cluster-role.yaml"
cp config/rbac/leader-election-role.yaml "$chart/files/leader-election-role.yaml"
cp config/prometheus/prometheus-rule.yaml "$chart/files/prometheus-rule.yaml"
cp config/grafana/tagguard.json "$chart/files/tagguard.json"
node scripts/chart-values-table.ts --write "$chart"
echo "[sync-chart] $chart is current with crds/ and config/"
