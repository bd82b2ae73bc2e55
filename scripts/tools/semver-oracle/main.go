// semver-oracle answers "which tag would Flux pick?" with Flux's own code: it reads a JSON array of
// cases {constraint, tags[], filter?} on stdin and writes one JSON answer per case on stdout. The
// selection mirrors fluxcd/source-controller v1.9.2 OCIRepositoryReconciler.getTagBySemver (filterTags,
// semver.NewConstraint, fluxcd/pkg/version.ParseVersion, sort.Sort(sort.Reverse(semver.Collection)),
// Original()) without the registry call; the Helm `_`/`+` tag mapping applies only to a layer selector of
// the Helm chart media type and is not modelled.
//
// A case with mode "argocd-helm" or "argocd-oci" asks which registry tag Argo CD v3.5.1 deploys for the
// targetRevision in `constraint`, given the repository's tags: Argo's own util/versions.MaxVersion and
// IsVersion / IsConstraint (imported from github.com/argoproj/argo-cd/v3), wrapped as its repo-server
// does (see argocd.go). Built by scripts/testbin.sh; used by
// test/integration/registry/semver-oracle.test.ts.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"

	"github.com/Masterminds/semver/v3"
	"github.com/fluxcd/pkg/version"
)

type testCase struct {
	// Mode is "" (Flux), "argocd-helm" or "argocd-oci".
	Mode string `json:"mode,omitempty"`
	// Constraint is Flux's spec.ref.semver, or Argo CD's targetRevision.
	Constraint string   `json:"constraint"`
	Tags       []string `json:"tags"`
	Filter     string   `json:"filter,omitempty"`
}

type answer struct {
	// Tag is what Flux resolves the semver reference to; empty when Error is set.
	Tag string `json:"tag,omitempty"`
	// Error is "constraint" (NewConstraint refused it), "filter" (the regexp does not compile) or
	// "no-match" (no tag satisfies it), the three ways getTagBySemver fails after listing tags. In the
	// Argo CD modes also "invalid-tag", "not-found" and "unpullable" (see argocd.go).
	Error string `json:"error,omitempty"`
	// Detail is the Go error text, for humans.
	Detail string `json:"detail,omitempty"`
	// Tied lists every matching tag equal to the winner (Compare == 0). Go's sort.Sort is stable only
	// up to 12 elements (insertion sort); beyond that the winner among ties is an accident of pdqsort.
	Tied []string `json:"tied,omitempty"`
	// Matching counts the tags that satisfied the constraint.
	Matching int `json:"matching"`
}

func filterTags(filter string, tags []string) ([]string, error) {
	if filter == "" {
		return tags, nil
	}
	match, err := regexp.Compile(filter)
	if err != nil {
		return nil, err
	}
	valid := []string{}
	for _, tag := range tags {
		if match.MatchString(tag) {
			valid = append(valid, tag)
		}
	}
	return valid, nil
}

func pick(c testCase) answer {
	tags, err := filterTags(c.Filter, c.Tags)
	if err != nil {
		return answer{Error: "filter", Detail: err.Error()}
	}
	constraint, err := semver.NewConstraint(c.Constraint)
	if err != nil {
		return answer{Error: "constraint", Detail: err.Error()}
	}
	var matching []*semver.Version
	for _, tag := range tags {
		v, err := version.ParseVersion(tag)
		if err != nil {
			continue
		}
		if constraint.Check(v) {
			matching = append(matching, v)
		}
	}
	if len(matching) == 0 {
		return answer{Error: "no-match", Detail: fmt.Sprintf("no match found for semver: %s", c.Constraint)}
	}
	sort.Sort(sort.Reverse(semver.Collection(matching)))
	best := matching[0]
	var tied []string
	for _, v := range matching {
		if v.Compare(best) == 0 {
			tied = append(tied, v.Original())
		}
	}
	return answer{Tag: best.Original(), Tied: tied, Matching: len(matching)}
}

func main() {
	var cases []testCase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintf(os.Stderr, "semver-oracle: reading cases from stdin: %v\n", err)
		os.Exit(2)
	}
	answers := make([]answer, len(cases))
	for i, c := range cases {
		switch c.Mode {
		case "":
			answers[i] = pick(c)
		case "argocd-helm":
			answers[i] = pickArgoCDHelm(c.Constraint, c.Tags)
		case "argocd-oci":
			answers[i] = pickArgoCDOCI(c.Constraint, c.Tags)
		default:
			fmt.Fprintf(os.Stderr, "semver-oracle: unknown mode %q\n", c.Mode)
			os.Exit(2)
		}
	}
	out := json.NewEncoder(os.Stdout)
	if err := out.Encode(answers); err != nil {
		fmt.Fprintf(os.Stderr, "semver-oracle: %v\n", err)
		os.Exit(1)
	}
}
