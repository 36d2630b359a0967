package edrpolicy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// --keep-previous keeps rules of the previous version for the rollout window: they pass the
// guardrails again, as new rules do. A previous policy edited to hold a temp folder, a drive
// root spelled as a variable, an 8.3 or UNC spelling, or an executable folder does not slip
// through; with Force the guardrail refusals become guardrail-forced warnings, the executable
// folder is refused even then. A narrow kept rule still passes.
func TestKeepPreviousReappliesGuardrails(t *testing.T) {
	for _, tc := range []struct {
		value    string
		role     profile.Role
		match    Match
		refusal  string // "" = kept
		forcible bool
	}{
		{`C:\Windows\Temp\CrashPlan`, "cache", MatchSubfolders, "a temp folder", true},
		{`C:/Users//bob/./AppData\Local\Temp\x`, "cache", MatchSubfolders, "a temp folder", true},
		{`%SystemDrive%\`, "cache", MatchSubfolders, "a drive root", true},
		{`%TEMP%\CrashPlan`, "cache", MatchSubfolders, "a temp folder", true},
		{`C:\PROGRA~1\CrashPlan\cache`, "cache", MatchSubfolders, "8.3 short name", true},
		{`\\localhost\c$\ProgramData\CrashPlan\cache`, "cache", MatchSubfolders, "UNC", true},
		{`C:\Program Files\CrashPlan`, "executable", MatchSubfolders, "executable path rule over a folder", false},
		{`C:\ProgramData\CrashPlan\oldcache`, "cache", MatchSubfolders, "", true},
	} {
		prev := &Policy{SchemaVersion: SchemaVersion, Profile: "code42", Product: "crashplan", OS: "windows", AppVersion: "11.0.0", Level: CriterionHash,
			Rules: []Rule{{Criterion: CriterionPath, Value: tc.value, Platform: "windows", Role: tc.role, Match: tc.match, Files: []string{tc.value}, Reason: "edited", Source: "hand"}}}
		opts := DecideOptions{Profile: code42(t), OS: "windows", Version: "11.2.1", Product: "crashplan", Now: testNow, Previous: prev, KeepPrevious: true}
		pol, err := Decide(windowsInstall(), opts)
		if tc.refusal == "" {
			require.NoError(t, err, tc.value)
			assert.Contains(t, ruleValues(pol), tc.value, "a narrow rule is kept")
			continue
		}
		var ge *GuardrailError
		require.ErrorAs(t, err, &ge, tc.value)
		assert.Contains(t, err.Error(), "rules kept from the previous policy", tc.value)
		require.Len(t, ge.Refusals, 1, tc.value)
		assert.Equal(t, tc.value, ge.Refusals[0].Path)
		assert.Contains(t, ge.Refusals[0].Reason, tc.refusal)

		opts.Force = true
		pol, err = Decide(windowsInstall(), opts)
		if !tc.forcible {
			require.ErrorAs(t, err, &ge, "an executable folder is refused even with Force: %s", tc.value)
			continue
		}
		require.NoError(t, err, tc.value)
		assert.Contains(t, ruleValues(pol), tc.value)
		var forced []string
		for _, w := range pol.Warnings {
			if w.Code == WarnGuardrailForced {
				forced = append(forced, w.Files...)
			}
		}
		assert.Equal(t, []string{tc.value}, forced)
	}
}

// Without --keep-previous the previous rules are only listed as superseded: nothing to judge.
func TestSupersededRulesAreNotJudged(t *testing.T) {
	prev := &Policy{SchemaVersion: SchemaVersion, Profile: "code42", OS: "windows", AppVersion: "11.0.0",
		Rules: []Rule{{Criterion: CriterionPath, Value: `C:\Windows\Temp`, Platform: "windows", Role: "cache", Match: MatchSubfolders, Files: []string{`C:\Windows\Temp`}}}}
	pol, err := Decide(windowsInstall(), DecideOptions{Profile: code42(t), OS: "windows", Version: "11.2.1", Product: "crashplan", Now: testNow, Previous: prev})
	require.NoError(t, err)
	assert.NotContains(t, ruleValues(pol), `C:\Windows\Temp`)
	require.Len(t, pol.Superseded, 1)
	assert.Equal(t, `C:\Windows\Temp`, pol.Superseded[0].Value)
}

func ruleValues(p *Policy) []string {
	var out []string
	for _, r := range p.Rules {
		out = append(out, r.Value)
	}
	return out
}
