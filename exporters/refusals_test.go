package exporters_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/crowdstrike"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/output"
	"github.com/edrpolicy/edrpolicy/signers"
)

// refusedCase is a policy a library user might hand to an exporter, holding one rule the CLI
// refuses, and the text that rule would put into a vendor file.
type refusedCase struct {
	name     string
	rule     edrpolicy.Rule
	os       profile.OS
	leak     string // what must not appear in any vendor file
	id       string // the refusal's finding id
	forcible bool
}

const riskyThumb = "a43489159a520f0d93d032ccaf37e7fe20a8b419"

func refusedCases() []refusedCase {
	exe := func(path string, r edrpolicy.Rule) edrpolicy.Rule {
		r.Role, r.Files = "executable", []string{path}
		r.FileDigests = []edrpolicy.FileDigest{{Path: path, SHA256: strings.Repeat("ab", 32), SHA1: strings.Repeat("cd", 20)}}
		return r
	}
	folder := func(platform profile.OS, v string) edrpolicy.Rule {
		return edrpolicy.Rule{Criterion: edrpolicy.CriterionPath, Value: v, Platform: platform, Role: "cache", Match: edrpolicy.MatchSubfolders, Files: []string{v}, Reason: "r"}
	}
	return []refusedCase{
		// The example: a Defender ExclusionPath for the Windows temp folder.
		{"windows temp", folder("windows", `C:\Windows\Temp`), "windows", `C:\Windows\Temp`, edrpolicy.FindingGuardrail, true},
		{"drive root", folder("windows", `C:\`), "windows", `'C:\'`, edrpolicy.FindingGuardrail, true},
		{"temp spelled through a variable", folder("windows", `%TEMP%\cache`), "windows", `%TEMP%`, edrpolicy.FindingGuardrail, true},
		{"mac tmp", folder("mac", `/private/tmp/cache`), "mac", `/private/tmp/cache`, edrpolicy.FindingGuardrail, true},
		{"linux world-writable", folder("linux", `/dev/shm/cache`), "linux", `/dev/shm/cache`, edrpolicy.FindingGuardrail, true},
		{"bare wildcard", folder("linux", `/opt/*`), "linux", `/opt/*`, edrpolicy.FindingGuardrail, true},
		{"executable folder", exe(`C:\Program Files\CrashPlan`, edrpolicy.Rule{Criterion: edrpolicy.CriterionPath, Value: `C:\Program Files\CrashPlan`,
			Platform: "windows", Match: edrpolicy.MatchSubfolders, Reason: "r"}), "windows", `C:\Program Files\CrashPlan`, edrpolicy.FindingExecutableFolder, false},
		{"interpreter by hash", exe(`C:\Program Files\CrashPlan\powershell.exe`, edrpolicy.Rule{Criterion: edrpolicy.CriterionHash, Value: strings.Repeat("ab", 32),
			SHA1: strings.Repeat("cd", 20), Platform: "windows", Reason: "r"}), "windows", strings.Repeat("ab", 32), edrpolicy.FindingInterpreter, true},
		{"interpreter by path", exe(`/opt/crashplan/bin/node`, edrpolicy.Rule{Criterion: edrpolicy.CriterionPath, Value: `/opt/crashplan/bin/node`,
			Platform: "linux", Match: edrpolicy.MatchFile, Reason: "r"}), "linux", `/opt/crashplan/bin/node`, edrpolicy.FindingInterpreter, true},
		{"risky signer", exe(`C:\Program Files\CrashPlan\CrashPlanService.exe`, edrpolicy.Rule{Criterion: edrpolicy.CriterionSigner, Value: riskyThumb, Platform: "windows", Reason: "r",
			Signer: &signers.Certificate{CommonName: "Microsoft Windows", Organization: "Microsoft Corporation", Subject: "CN=Microsoft Windows,O=Microsoft Corporation",
				ThumbprintSHA1: riskyThumb, ThumbprintSHA256: strings.Repeat("ef", 32)}}), "windows", riskyThumb, edrpolicy.FindingRiskySigner, true},
	}
}

func (c refusedCase) policy() *edrpolicy.Policy {
	return &edrpolicy.Policy{SchemaVersion: edrpolicy.SchemaVersion, Profile: "p", OS: c.os, Level: edrpolicy.CriterionPath, Rules: []edrpolicy.Rule{c.rule}}
}

// vendorExporters are the built-in exporters as a library user constructs them: SentinelOne
// needs a scope.
func vendorExporters() []exporters.Exporter {
	return []exporters.Exporter{crowdstrike.New(crowdstrike.Options{}), sentinelone.New(sentinelone.Options{Tenant: true}), defender.New(defender.Options{})}
}

// userOptions are options a library user would give.
func userOptions(force bool) exporters.Options {
	return exporters.Options{Force: force}
}

func leaks(files []output.File, s string) []string {
	var out []string
	for _, f := range files {
		if f.Name != exporters.CoverageFileName && bytes.Contains(f.Data, []byte(s)) {
			out = append(out, f.Name)
		}
	}
	return out
}

// A program using only the public API cannot produce vendor output the CLI refuses: through
// exporters.Collect, exporters.Export, or a vendor exporter run directly, for every vendor.
// The only way to reach an exporter is an admitted Request, and Admit applies the refusals.
func TestNoRouteAroundTheRefusals(t *testing.T) {
	for _, c := range refusedCases() {
		for _, e := range vendorExporters() {
			t.Run(c.name+"/"+e.Name(), func(t *testing.T) {
				reg := exporters.NewRegistry()
				require.NoError(t, reg.Register(e))
				res, err := exporters.Collect(reg, c.policy(), []string{e.Name()}, userOptions(false))
				assertRefused(t, c, err)
				assert.Nil(t, res)

				files, warns, err := exporters.Export(reg, c.policy(), []string{e.Name()}, userOptions(false))
				assertRefused(t, c, err)
				assert.Nil(t, files)
				assert.Nil(t, warns)

				req, err := exporters.Admit(c.policy(), userOptions(false))
				assertRefused(t, c, err)
				assert.Nil(t, req)

				// A Request not made by Admit (its zero value, nil) gets nothing exported.
				for _, r := range []*exporters.Request{nil, {}} {
					vr, err := e.Export(r)
					assert.ErrorIs(t, err, exporters.ErrNotAdmitted)
					assert.Nil(t, vr)
				}

				// Admitting a harmless policy, then changing it: the request keeps its own copy.
				p := c.policy()
				harmless := p.Rules[0]
				p.Rules[0] = edrpolicy.Rule{Criterion: edrpolicy.CriterionHash, Value: strings.Repeat("0", 64), Platform: c.os, Role: "executable", Files: []string{"harmless"}}
				req, err = exporters.Admit(p, userOptions(false))
				require.NoError(t, err)
				p.Rules[0] = harmless
				vr, err := e.Export(req)
				require.NoError(t, err)
				assert.Empty(t, leaks(vr.Files, c.leak), "changing the policy after Admit reached the vendor files")

				// Changing the policy the admitted request hands out: a copy too.
				req, err = exporters.Admit(p2harmless(p, c.os), userOptions(false))
				require.NoError(t, err)
				req.Policy().Rules[0] = harmless
				vr, err = e.Export(req)
				require.NoError(t, err)
				assert.Empty(t, leaks(vr.Files, c.leak), "changing Request.Policy() reached the vendor files")
			})
		}
	}
}

func assertRefused(t *testing.T, c refusedCase, err error) {
	t.Helper()
	var ge *edrpolicy.GuardrailError
	require.ErrorAs(t, err, &ge)
	var ids []string
	for _, r := range ge.Refusals {
		ids = append(ids, r.ID)
	}
	assert.Contains(t, ids, c.id)
}

// Options.Force is the one override, as export --force is: each forced refusal is a warning
// of its own code, and an executable folder rule is refused even then.
func TestForceOverridesRefusals(t *testing.T) {
	codes := map[string]edrpolicy.WarningCode{edrpolicy.FindingGuardrail: edrpolicy.WarnGuardrailForced, edrpolicy.FindingInterpreter: edrpolicy.WarnInterpreterForced,
		edrpolicy.FindingRiskySigner: edrpolicy.WarnRiskySignerForced}
	for _, c := range refusedCases() {
		t.Run(c.name, func(t *testing.T) {
			res, err := exporters.Collect(tenantRegistry(t), c.policy(), []string{"crowdstrike", "sentinelone", "defender"}, userOptions(true))
			if !c.forcible {
				assertRefused(t, c, err)
				return
			}
			require.NoError(t, err)
			var forced []edrpolicy.Warning
			for _, w := range res.Warnings {
				if strings.HasSuffix(string(w.Code), "-forced") {
					forced = append(forced, w)
				}
			}
			require.Len(t, forced, 1)
			assert.Equal(t, codes[c.id], forced[0].Code)
			assert.NotEmpty(t, forced[0].Files)
		})
	}
}

// The policy's own forced warnings are a record, not a permission: a policy edited to claim
// that generate --force allowed its rules is refused all the same.
func TestPolicyForcedWarningsNotTrusted(t *testing.T) {
	for _, c := range refusedCases() {
		p := c.policy()
		for _, code := range []edrpolicy.WarningCode{edrpolicy.WarnGuardrailForced, edrpolicy.WarnInterpreterForced, edrpolicy.WarnRiskySignerForced} {
			p.Warnings = append(p.Warnings, edrpolicy.Warning{Code: code, Files: append(c.rule.Files, c.rule.Value)})
		}
		_, err := exporters.Admit(p, userOptions(false))
		assertRefused(t, c, err)
		assert.False(t, errors.Is(err, exporters.ErrNotAdmitted))
	}
}

// p2harmless is p with its first rule replaced by a harmless hash rule.
func p2harmless(p *edrpolicy.Policy, os profile.OS) *edrpolicy.Policy {
	c := *p
	c.Rules = append([]edrpolicy.Rule(nil), p.Rules...)
	c.Rules[0] = edrpolicy.Rule{Criterion: edrpolicy.CriterionHash, Value: strings.Repeat("0", 64), Platform: os, Role: "executable", Files: []string{"harmless"}}
	return &c
}
