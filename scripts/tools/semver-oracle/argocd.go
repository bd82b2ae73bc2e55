// The Argo CD modes of the oracle: which registry tag Argo CD v3.5.1 deploys for an OCI source's
// targetRevision. The version logic is Argo's own package (util/versions: MaxVersion, IsVersion,
// IsConstraint); the few lines around it that need a registry are mirrored here, with their source:
//
//   - Helm-OCI, reposerver/repository/repository.go newHelmClientResolveRevision (v3.5.1 L2880-2918): a
//     version is used as written (L2889); otherwise the chart's tags, listed by util/helm/client.go
//     GetTags with `_` turned into `+` (L545), go through versions.MaxVersion (L2912). The result is
//     pulled with `helm pull --version` (util/helm/cmd.go PullOCI); Helm v4.2.1 (the CLI Argo CD v3.5
//     ships) takes a semver.NewVersion-valid string as the tag (pkg/registry/client.go ValidateReference
//     L883-885) with `+` turned back into `_` (pkg/registry/reference.go newReference L58); anything else
//     Helm looks up as a constraint among its strict versions, which a non-version revision never is.
//   - native OCI, util/oci/client.go resolveRevision (L384-407): the revision is resolved as a reference
//     first (resolveDigest, L463: oras remote.Repository.Resolve, which validates the tag); failing that,
//     and only for a constraint, the tags listed by getTags with `_` turned into `+` (L442) go through
//     versions.MaxVersion and the result is resolved the same way.
//
// One Go build holds one version of a module, and Flux needs Masterminds/semver v3.5.0, so Argo's code runs
// here on v3.5.0 rather than the v3.4.0 Argo CD pins. The two differ only in v3.5.0's input limits (versions
// up to 256 bytes, constraints up to 512 bytes and 32 alternatives); the tests keep to inputs below them.
package main

import (
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/argoproj/argo-cd/v3/util/versions"
	"oras.land/oras-go/v2/registry/remote"
)

// maxVersionError sorts a versions.MaxVersion error into the oracle's outcomes by the text Argo gives it.
func maxVersionError(err error) answer {
	detail := err.Error()
	switch {
	case strings.HasPrefix(detail, "failed to determine semver constraint"):
		return answer{Error: "constraint", Detail: detail}
	case strings.HasPrefix(detail, "invalid semver version in tags"):
		return answer{Error: "invalid-tag", Detail: detail}
	case strings.HasPrefix(detail, "version matching constraint not found"):
		return answer{Error: "no-match", Detail: detail}
	}
	return answer{Error: "unexpected", Detail: detail}
}

func plusForUnderscore(tags []string) []string {
	converted := make([]string, len(tags))
	for i, tag := range tags {
		converted[i] = strings.ReplaceAll(tag, "_", "+")
	}
	return converted
}

func pickArgoCDHelm(revision string, tags []string) answer {
	if versions.IsVersion(revision) {
		return answer{Tag: strings.ReplaceAll(revision, "+", "_")}
	}
	picked, err := versions.MaxVersion(revision, plusForUnderscore(tags), "")
	if err != nil {
		return maxVersionError(err)
	}
	if _, err := semver.NewVersion(picked); err != nil {
		return answer{Error: "unpullable", Detail: "helm pull --version " + picked + ": " + err.Error()}
	}
	return answer{Tag: strings.ReplaceAll(picked, "+", "_")}
}

func pickArgoCDOCI(revision string, tags []string) answer {
	repo, err := remote.NewRepository("registry.example/repository")
	if err != nil {
		panic(err)
	}
	// resolveDigest against a registry holding exactly these tags.
	resolves := func(reference string) error {
		if _, err := repo.ParseReference(reference); err != nil {
			return err
		}
		if !slices.Contains(tags, reference) {
			return errNotFound
		}
		return nil
	}
	err = resolves(revision)
	if err == nil {
		return answer{Tag: revision}
	}
	if !versions.IsConstraint(revision) {
		return answer{Error: "not-found", Detail: err.Error()}
	}
	picked, err := versions.MaxVersion(revision, plusForUnderscore(tags), "")
	if err != nil {
		return maxVersionError(err)
	}
	if err := resolves(picked); err != nil {
		return answer{Error: "unpullable", Detail: err.Error()}
	}
	return answer{Tag: picked}
}

type notFound struct{}

func (notFound) Error() string { return "manifest unknown" }

var errNotFound error = notFound{}
