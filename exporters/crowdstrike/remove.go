package crowdstrike

import (
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/output"
)

// RemovalFile is the file Removal writes.
const RemovalFile = "crowdstrike-remove.json"

// Removal renders how to delete entries from Falcon (crowdstrike-remove.json): per entry, the
// query that finds its id and the DELETE that removes it. The delete endpoints and their ids
// parameter are those of Falcon's API specification (gofalcon: ioc indicator.delete.v1,
// ml_exclusions deleteMLExclusionsV1, certificate_based_exclusions cb-exclusions.delete.v1).
// Nothing is deleted by filter directly: look at what the query returns first.
func (Exporter) Removal(es []core.Entry) ([]output.File, error) {
	r := core.Removal{
		Vendor: Name,
		Instructions: []string{
			"Console: Endpoint security > IOC management (custom indicators), Exclusions > Machine learning, Exclusions > Certificate-based: search each value below and delete the entry.",
			"API: run each step's find request, check that it returns exactly the entry meant, then run its delete request with the id it returned in place of <id>.",
		},
		Unconfirmed: []string{
			"the FQL field names in the find filters: type and value for indicators (as third-party callers of the API use them), value for ML exclusions, certificate.thumbprint for certificate-based exclusions (no source): UNCONFIRMED",
			"FQL escaping of a quote or backslash inside a value (written here as \\' and \\\\): UNCONFIRMED",
		},
	}
	seen := map[string]bool{}
	for _, e := range es {
		k := e.Type + "\x00" + e.Value
		if seen[k] {
			continue
		}
		seen[k] = true
		s, err := removalStep(e)
		if err != nil {
			return nil, err
		}
		r.Steps = append(r.Steps, s)
	}
	data, err := core.JSON(r)
	if err != nil {
		return nil, err
	}
	return []output.File{{Name: RemovalFile, Data: data}}, nil
}

func removalStep(e core.Entry) (core.RemovalStep, error) {
	s := core.RemovalStep{Type: e.Type, Value: e.Value}
	del := func(path string) *core.APICall {
		return &core.APICall{Method: "DELETE", Path: path, Query: map[string]string{"ids": core.IDPlaceholder}}
	}
	switch e.Type {
	case "sha256", "md5":
		s.Find = &core.APICall{Method: "GET", Path: "/iocs/queries/indicators/v1", Query: map[string]string{"filter": fmt.Sprintf("type:%s+value:%s", fql(e.Type), fql(e.Value))}}
		s.Delete = del("/iocs/entities/indicators/v1")
		s.Delete.Query["comment"] = "edrpolicy upgrade: entry no longer in the policy"
	case entryML:
		s.Find = &core.APICall{Method: "GET", Path: "/policy/queries/ml-exclusions/v1", Query: map[string]string{"filter": "value:" + fql(e.Value)}}
		s.Delete = del("/policy/entities/ml-exclusions/v1")
	case entryCert:
		s.Find = &core.APICall{Method: "GET", Path: "/exclusions/queries/cert-based-exclusions/v1", Query: map[string]string{"filter": "certificate.thumbprint:" + fql(e.Value)}}
		s.Delete = del("/exclusions/entities/cert-based-exclusions/v1")
	default:
		return s, fmt.Errorf("%s: no removal for entry type %q", Name, e.Type)
	}
	return s, nil
}

// fql quotes a value for a Falcon Query Language filter.
func fql(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
