package exporters_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/check"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/internal/pathcases"
)

// check and export give the same verdict on every path of the shared table, for every
// platform: a rule check reports as a guardrail error is a rule export refuses, and the
// other way round. The policy's guardrail-forced warning changes neither.
func TestCheckAndExportAgreeOnPaths(t *testing.T) {
	for _, c := range pathcases.All() {
		for _, forcedWarning := range []bool{false, true} {
			p := &edrpolicy.Policy{SchemaVersion: edrpolicy.SchemaVersion, Profile: "t", OS: c.Platform, Level: edrpolicy.CriterionHash,
				Rules: []edrpolicy.Rule{{Criterion: edrpolicy.CriterionPath, Value: c.Value, Platform: c.Platform, Role: "cache",
					Match: edrpolicy.MatchSubfolders, Files: []string{c.Value}, Reason: "r", Source: "s"}}}
			if forcedWarning {
				p.Warnings = []edrpolicy.Warning{{Code: edrpolicy.WarnGuardrailForced, Message: "kept", Files: []string{c.Value}}}
			}
			rep, err := check.Run(t.Context(), p, check.Options{})
			if !assert.NoError(t, err) {
				continue
			}
			checkRefused := false
			for _, f := range rep.Findings {
				if f.ID == edrpolicy.FindingGuardrail {
					checkRefused = f.Severity == check.SeverityError
				}
			}
			_, _, err = exporters.Export(exporters.Default(), p, []string{"defender"}, exporters.Options{})
			var ge *edrpolicy.GuardrailError
			exportRefused := errors.As(err, &ge)
			assert.Equal(t, c.Refused, checkRefused, "check: %s %s %q", c.Family, c.Platform, c.Value)
			assert.Equal(t, checkRefused, exportRefused, "check and export disagree: %s %s %q (export: %v)", c.Family, c.Platform, c.Value, err)
			assert.Equal(t, checkRefused, rep.Failed(), "%s %q", c.Platform, c.Value)
		}
	}
}

// Executable folder rules: export refuses them as check does (EDR010), with or without
// --force, whatever the path; an executable file rule passes.
func TestExportRefusesExecutableFolders(t *testing.T) {
	for _, tc := range []struct {
		os      profile.OS
		value   string
		match   edrpolicy.Match
		refused bool
	}{
		{"windows", `C:\Program Files\CrashPlan`, edrpolicy.MatchSubfolders, true},
		{"windows", `C:\Program Files\CrashPlan\bin`, edrpolicy.MatchFolder, true},
		{"windows", `C:\Users\*\AppData\Local\Programs\CrashPlan`, edrpolicy.MatchSubfolders, true},
		{"mac", `/Applications/CrashPlan.app`, edrpolicy.MatchSubfolders, true},
		{"mac", `/Applications/CrashPlan.app/Contents/MacOS`, edrpolicy.MatchFolder, true},
		{"linux", `/usr/local/crashplan/bin`, edrpolicy.MatchFolder, true},
		{"linux", `/opt/crashplan`, edrpolicy.MatchSubfolders, true},
		{"windows", `C:\Program Files\CrashPlan\CrashPlanService.exe`, edrpolicy.MatchFile, false},
		{"linux", `/usr/local/crashplan/bin/CrashPlanService`, edrpolicy.MatchFile, false},
	} {
		p := &edrpolicy.Policy{SchemaVersion: edrpolicy.SchemaVersion, Profile: "t", OS: tc.os, Level: edrpolicy.CriterionPath,
			Rules: []edrpolicy.Rule{{Criterion: edrpolicy.CriterionPath, Value: tc.value, Platform: tc.os, Role: "executable",
				Match: tc.match, Files: []string{tc.value}, Reason: "r", Source: "s"}}}
		rep, err := check.Run(t.Context(), p, check.Options{})
		assert.NoError(t, err)
		checkRefused := false
		for _, f := range rep.Findings {
			checkRefused = checkRefused || f.ID == edrpolicy.FindingExecutableFolder
		}
		assert.Equal(t, tc.refused, checkRefused, "check %s %s", tc.value, tc.match)
		for _, force := range []bool{false, true} {
			_, _, err := exporters.Export(exporters.Default(), p, []string{"defender", "crowdstrike"}, exporters.Options{Force: force})
			var ge *edrpolicy.GuardrailError
			if !tc.refused {
				assert.NoError(t, err, "%s", tc.value)
				continue
			}
			if assert.ErrorAs(t, err, &ge, "%s force=%v", tc.value, force) {
				assert.Equal(t, []edrpolicy.Refusal{{ID: edrpolicy.FindingExecutableFolder, Path: tc.value, Reason: "executable path rule over a folder (" + tc.value + ", match " + string(tc.match) + "): never allowed, it trusts whatever lands there; use hash or signer rules, or exact file paths"}}, ge.Refusals)
				assert.False(t, ge.Forcible())
				assert.Contains(t, err.Error(), "refused even when forced")
			}
		}
	}
}
