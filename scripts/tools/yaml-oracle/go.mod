module tagguard.local/tools/yaml-oracle

go 1.26.0

// The YAML readers helm v3.19.5 pins (its go.mod): what helm, Flux's helm-controller and Argo CD decode with.
require (
	k8s.io/apimachinery v0.34.2
	sigs.k8s.io/yaml v1.6.0
)

require (
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	sigs.k8s.io/json v0.0.0-20241014173422-cfa47c3a1cc8 // indirect
)
