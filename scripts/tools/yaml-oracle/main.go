// yaml-oracle reads YAML the way the GitOps tools do, for tagguard's differential tests. Mode "stream" (the
// default) splits stdin as Kubernetes clients split helm's output (k8s.io/apimachinery's YAMLReader) and
// converts each document with sigs.k8s.io/yaml.YAMLToJSON (go-yaml v2), the versions helm v3.19.5 pins. Mode
// "one" converts stdin as one values file (sigs.k8s.io/yaml reads the first document). It prints one JSON
// object: {"documents": [...]} (null documents dropped) or {"error": "..."}.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func documents(input []byte, mode string) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	if mode == "one" {
		doc, err := yaml.YAMLToJSON(input)
		if err != nil {
			return nil, err
		}
		return append(out, doc), nil
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(input)))
	for {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		doc, err := yaml.YAMLToJSON(chunk)
		if err != nil {
			return nil, err
		}
		if string(doc) != "null" {
			out = append(out, doc)
		}
	}
}

func main() {
	mode := "stream"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	input, err := io.ReadAll(os.Stdin)
	result := map[string]any{}
	if err == nil {
		var docs []json.RawMessage
		docs, err = documents(input, mode)
		result["documents"] = docs
	}
	if err != nil {
		result = map[string]any{"error": err.Error()}
	}
	if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
		os.Exit(1)
	}
}
