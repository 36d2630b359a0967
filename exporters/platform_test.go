package exporters_test

import (
	"strings"
	"testing"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/stretchr/testify/assert"
)

// A rule for a platform no vendor knows is an error naming the rule, for every vendor: never
// an entry for some other platform.
func TestUnknownPlatformRefused(t *testing.T) {
	p := &edrpolicy.Policy{SchemaVersion: 1, Profile: "x", OS: "windows", Level: edrpolicy.CriterionHash,
		Rules: []edrpolicy.Rule{{Criterion: edrpolicy.CriterionHash, Value: strings.Repeat("a", 64), Platform: "beos", Role: "executable", Files: []string{`C:\App\a.exe`}, Reason: "x", Source: "inspected"}}}
	reg, err := exporters.Configured(exporters.Vendors{SentinelOne: sentinelone.Options{Tenant: true}})
	assert.NoError(t, err)
	for _, v := range []string{"crowdstrike", "defender", "sentinelone"} {
		_, _, err := exporters.Export(reg, p, []string{v}, exporters.Options{})
		assert.ErrorContains(t, err, `rules[0] (hash "aaaa`, v)
		assert.ErrorContains(t, err, `platform "beos": want windows, mac or linux`, v)
	}
}
