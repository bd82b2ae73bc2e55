# tagguard — developer entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# npm scripts run on the Node 24 that the project pins (devDependency `node`); make targets use it too.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

DEPS := node_modules/.installed
# Names a missing or too old command (and its Debian package) before anything is built: README "Prerequisites".
PREREQS := scripts/check-prerequisites.sh

.PHONY: help
help: ## List the targets
	@awk -F ':.*## ' '/^[a-z-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: prerequisites
prerequisites: ## Check that bash, node, npm, Go >= 1.26, openssl, redis-server and gpg are installed (says how to install what is not)
	@$(PREREQS)

$(DEPS): package.json package-lock.json
	@$(PREREQS) bash node npm
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: $(DEPS) ## Install the Node dependencies (and Node 24 itself)

.PHONY: testbin
testbin: ## Build or find the pinned test tools and link them into .testbin/bin/ (TOOLS="a b" for some)
	@$(PREREQS) bash go
	scripts/testbin.sh $(TOOLS)

.PHONY: build
build: $(DEPS) ## Compile TypeScript to dist/
	npm run build

.PHONY: lint
lint: $(DEPS) ## eslint, the layering of src/ (dependency-cruiser) and prettier check
	npm run lint

.PHONY: typecheck
typecheck: $(DEPS) ## tsc --noEmit over src and test
	npm run typecheck

.PHONY: test-unit
test-unit: $(DEPS) ## Unit tests (no network)
	npm run test:unit

.PHONY: test-integration
test-integration: prerequisites $(DEPS) testbin ## Integration tests against a real kube-apiserver, etcd, registries, cosign, notation, helm
	npm run test:integration

.PHONY: test
test: prerequisites lint typecheck testbin ## Everything CI runs: lint, typecheck, then unit and integration tests in one run
	npm test

.PHONY: fuzz
fuzz: $(DEPS) testbin ## Archive fuzz against helm's loader (chart-oracle): FUZZ_RUNS=10000 mutated charts; FUZZ_SEED=n replays
	FUZZ_RUNS=$${FUZZ_RUNS:-10000} FUZZ_SEED=$${FUZZ_SEED:-$$RANDOM} \
	  vitest run --project integration test/integration/scan/archive-oracle.test.ts

.PHONY: chart
chart: $(DEPS) ## Sync charts/tagguard with crds/ and config/ (CRD, RBAC, alerts, dashboard), regenerate its values table, helm lint
	scripts/sync-chart.sh
	@$(PREREQS) bash go
	scripts/testbin.sh helm
	.testbin/bin/helm lint --strict charts/tagguard

.PHONY: image
image: $(DEPS) ## Build the container image with podman (BASES=debian: bases assembled from Debian packages; docs/image.md)
	@$(PREREQS) bash podman
	scripts/image.sh --bases $${BASES:-public}

.PHONY: release
release: prerequisites $(DEPS) ## Release files in dist/release/<version>/: chart, install.yaml, image (OCI archive), CycloneDX SBOMs, SHA256SUMS (BASES=debian: docs/image.md)
	TAGGUARD_IMAGE_BASES=$${BASES:-public} scripts/release.sh

.PHONY: demo
# The demo needs every prerequisite but the image tools (podman, runc, mmdebstrap; DEMO_IMAGE names an image
# already built), checked before anything is installed or built.
.PHONY: demo-prerequisites
demo-prerequisites:
	@$(PREREQS) bash node npm go openssl redis-server gpg nginx

demo: demo-prerequisites $(DEPS) testbin ## Narrated attack-and-recovery walkthrough on a local control plane (KEEP=1 leaves it running)
	node scripts/demo.ts

.PHONY: demo-stop
demo-stop: $(DEPS) ## Stop what `make demo KEEP=1` left running
	node scripts/demo.ts stop

.PHONY: bench
bench: $(DEPS) testbin ## Benchmarks against peer tools run side by side; prints ratios
	node bench/resolve.ts 500 100
	node bench/verify.ts 200 40
	node bench/scan.ts 20
	@# The full attack race (--trials 20) is run by hand; 5 per scenario × mode here (4 modes, with default-push:
	@# all modes push to distribution, default-push's notifying tagguard's receiver; ~10 min).
	node bench/attack-race.ts --trials 5
	@$(PREREQS) redis-server
	@# Argo CD: 20 attacks per mode, ~7 min.
	node bench/attack-race-argocd.ts 20
	node bench/hostile.ts 1
	@$(PREREQS) nginx
	@# An HTTP Helm repository of 5,000 chart versions polled 20 times per mode; 200 charts by helm check the shape.
	node bench/helm-index-poll.ts 5000 20 200
	@# Issue 17: 500 ArtifactVerifications over 100 tags beside source-controller, ~6 min (--full: 5,000 over 1,000).
	node bench/scale.ts

.PHONY: clean
clean: ## Remove build output and test runs (the tool cache in ~/.cache/tagguard stays)
	rm -rf dist .testbin/runs
