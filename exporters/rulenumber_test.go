package exporters_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/check"
	"github.com/edrpolicy/edrpolicy/exporters"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
)

// ruleRefRe is how messages name a rule: rules[N] (criterion "value").
var ruleRefRe = regexp.MustCompile(`rules\[(\d+)\] \((hash|signer|path) ("(?:[^"\\]|\\.)*")\)`)

// check and the exporters number rules the same way: the 0-based index into policy.json's
// "rules" (what `jq .rules[N]` reads). A duplicate hash rule that SentinelOne cannot take
// (no SHA-1 known) is named rules[N] by check's duplicate finding and by the export warning,
// and every rules[N] an exporter names is the rule at that index; coverage.json's "rule" is
// the same index.
func TestCheckAndExportNameTheSameRule(t *testing.T) {
	p := tp.Windows(t)
	dup := p.Rules[0]
	require.Equal(t, edrpolicy.CriterionHash, dup.Criterion)
	dup.SHA1 = ""
	p.Rules = append(p.Rules, dup)
	n := len(p.Rules) - 1

	rep, err := check.Run(context.Background(), p, check.Options{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	var ref string
	for _, f := range rep.Findings {
		if f.ID == check.FindingDuplicate {
			ref = f.RuleRef()
		}
	}
	require.Equal(t, "rules["+strconv.Itoa(n)+"]", ref, "check names the duplicate by its index")

	res, err := exporters.Collect(tenantRegistry(t), p, []string{"crowdstrike", "sentinelone", "defender"}, exporters.Options{})
	require.NoError(t, err)
	var named bool
	for _, w := range res.Warnings {
		if strings.HasPrefix(w.Message, "sentinelone: "+ref+" (hash ") {
			named = true
		}
		for _, m := range ruleRefRe.FindAllStringSubmatch(w.Message, -1) {
			i, err := strconv.Atoi(m[1])
			require.NoError(t, err)
			require.Less(t, i, len(p.Rules), m[0])
			assert.Equal(t, string(p.Rules[i].Criterion), m[2], "%s: %s", m[0], w.Message)
			v, err := strconv.Unquote(m[3])
			require.NoError(t, err, m[0])
			assert.Equal(t, p.Rules[i].Value, v, "%s: %s", m[0], w.Message)
		}
	}
	assert.True(t, named, "an export warning names %s", ref)

	for _, vc := range res.Coverage.Vendors {
		for _, x := range vc.Executables {
			require.Less(t, x.Rule, len(p.Rules))
			assert.Contains(t, p.Rules[x.Rule].Files, x.File, "coverage.json rule %d", x.Rule)
			if x.CoveredBy != nil && x.CoveredBy.Rule != nil {
				assert.Equal(t, x.Rule, *x.CoveredBy.Rule)
			}
		}
	}
}
