package sentinelone

import (
	"fmt"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/output"
)

// RemovalFile is the file Removal writes.
const RemovalFile = "sentinelone-remove.json"

// removalOSType maps the policy's platform names back to S1's osType.
var removalOSType = map[profile.OS]string{profile.OSWindows: "windows", profile.OSMac: "macos", profile.OSLinux: "linux"}

// Removal renders how to delete entries from SentinelOne (sentinelone-remove.json): per
// entry, GET /web/api/v2.1/exclusions filtered by type, value and osType, which returns its
// id, and DELETE /web/api/v2.1/exclusions with the body {"data": {"type", "ids"}}, the
// ExclusionsSchemasDeleteExclusionSchema of the API specification (swagger-generated client:
// Dirt-Diver/s1-api, api/docs/ExclusionsAndBlocklistApi.md).
func (Exporter) Removal(es []core.Entry) ([]output.File, error) {
	r := core.Removal{
		Vendor: Name,
		Instructions: []string{
			"Console: Sentinels > Exclusions: filter by the value below and delete the exclusion.",
			"API: run each step's find request with the scope you exported with added to its query (tenant=true, or siteIds, accountIds or groupIds), check that it returns exactly the exclusion meant, then run its delete request with the returned id in place of <id>.",
		},
	}
	seen := map[string]bool{}
	for _, e := range es {
		k := e.Type + "\x00" + string(e.Platform) + "\x00" + e.Value
		if seen[k] {
			continue
		}
		seen[k] = true
		os, ok := removalOSType[e.Platform]
		if !ok {
			return nil, fmt.Errorf("%s: entry %q: platform %q", Name, e.Value, e.Platform)
		}
		r.Steps = append(r.Steps, core.RemovalStep{
			Type: e.Type, Value: e.Value, Platform: e.Platform,
			Find: &core.APICall{Method: "GET", Path: "/web/api/v2.1/exclusions", Query: map[string]string{"type": e.Type, "value": e.Value, "osTypes": os}},
			Delete: &core.APICall{Method: "DELETE", Path: "/web/api/v2.1/exclusions",
				Body: map[string]any{"data": map[string]any{"type": e.Type, "ids": []string{core.IDPlaceholder}}}},
		})
	}
	data, err := core.JSON(r)
	if err != nil {
		return nil, err
	}
	return []output.File{{Name: RemovalFile, Data: data}}, nil
}
