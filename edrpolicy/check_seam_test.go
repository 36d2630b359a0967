package edrpolicy

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Package check imports edrpolicy, so edrpolicy's own tests cannot import it. The end-to-end
// tests that decide a policy and then check it against the same install reach check through
// this seam, which check_seam_ext_test.go (package edrpolicy_test, in the same test binary)
// fills in before any test runs.

// CheckArgs are the check.Options the end-to-end tests use.
type CheckArgs struct {
	Roots        []string
	InstallPaths map[string][]string
	Inspect      InspectOptions
	Now          time.Time
}

var (
	// CheckJSON runs check.Run and returns its report as JSON (`check --format json` without
	// the policy key) and whether it failed.
	CheckJSON func(ctx context.Context, p *Policy, a CheckArgs) ([]byte, bool, error)
	// CheckFindingLevels returns check.FindingRules as id → default severity.
	CheckFindingLevels func() map[string]string
	// CheckSignerRuleAllows is check.SignerRuleAllows.
	CheckSignerRuleAllows func(r *Rule, in *Install, f *FileEvidence) bool
)

// The finding ids the tests look for (check.FindingNotCovered, check.FindingUnreadable).
const (
	findingNotCovered = "EDR101"
	findingUnreadable = "EDR105"
)

// checkReport is the part of check's JSON report the tests read.
type checkReport struct {
	Findings []struct {
		ID      string `json:"id"`
		Level   string `json:"level"`
		Rule    *int   `json:"rule"`
		File    string `json:"file"`
		Message string `json:"message"`
	} `json:"findings"`
	Simulation *struct {
		NotCovered int    `json:"not_covered"`
		Text       string `json:"text"`
		Files      []struct {
			Path      string    `json:"path"`
			CoveredBy Criterion `json:"covered_by"`
		} `json:"files"`
	} `json:"simulation"`
	failed bool
}

// Failed reports whether a finding is an error.
func (r *checkReport) Failed() bool { return r.failed }

// runCheck checks p through the seam.
func runCheck(t testing.TB, ctx context.Context, p *Policy, a CheckArgs) *checkReport {
	t.Helper()
	require.NotNil(t, CheckJSON, "check_seam_ext_test.go sets CheckJSON")
	data, failed, err := CheckJSON(ctx, p, a)
	require.NoError(t, err)
	var rep checkReport
	require.NoError(t, json.Unmarshal(data, &rep))
	rep.failed = failed
	return &rep
}
