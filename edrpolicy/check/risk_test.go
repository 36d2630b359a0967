package check

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/signers"
)

func riskCert(cn, org, issuer string, eku, apple []string) *signers.Certificate {
	return &signers.Certificate{Subject: "CN=" + cn + ",O=" + org, CommonName: cn, Organization: org, Issuer: issuer, ExtKeyUsage: eku, AppleExtensions: apple}
}

// Check: a policy that allows an interpreter or pins a risky signer fails (EDR017, EDR018);
// recorded as forced, they are warnings. The simulation finds a renamed interpreter by its
// evidence.
func TestCheckRisk(t *testing.T) {
	ms := riskCert("Microsoft Windows", "Microsoft Corporation", "CN=Microsoft Windows Production PCA 2011,O=Microsoft Corporation", []string{"1.3.6.1.4.1.311.10.3.6"}, nil)
	ms.ThumbprintSHA1 = strings.Repeat("cd", 20)
	pol := &edrpolicy.Policy{SchemaVersion: 1, OS: "windows", Level: edrpolicy.CriterionSigner, Rules: []edrpolicy.Rule{
		{Criterion: edrpolicy.CriterionHash, Value: h('a'), Platform: "windows", Role: "executable", Files: []string{`C:\App\resources\node.exe`}},
		{Criterion: edrpolicy.CriterionSigner, Value: ms.ThumbprintSHA1, Platform: "windows", Role: "executable", Files: []string{`C:\App\x.dll`}, Signer: ms},
		{Criterion: edrpolicy.CriterionPath, Value: `C:\App\python\pythonw.exe`, Match: edrpolicy.MatchFile, Platform: "windows", Role: "executable", Files: []string{`C:\App\python\pythonw.exe`}},
		{Criterion: edrpolicy.CriterionHash, Value: h('b'), Platform: "windows", Role: "executable", Files: []string{`C:\App\app.exe`}},
	}}
	rep, err := Run(context.Background(), pol, Options{Now: testNow})
	require.NoError(t, err)
	got := map[string]string{}
	for _, f := range rep.Findings {
		if f.ID == FindingInterpreter || f.ID == FindingRiskySigner {
			got[f.ID+" "+f.RuleRef()] = string(f.Severity)
		}
	}
	assert.Equal(t, map[string]string{"EDR017 rules[0]": "error", "EDR018 rules[1]": "error", "EDR017 rules[2]": "error"}, got)
	assert.True(t, rep.Failed())

	pol.Warnings = []edrpolicy.Warning{{Code: edrpolicy.WarnInterpreterForced, Files: []string{`C:\App\resources\node.exe`, `C:\App\python\pythonw.exe`}}, {Code: edrpolicy.WarnRiskySignerForced, Files: []string{`C:\App\x.dll`}}}
	rep, err = Run(context.Background(), pol, Options{Now: testNow})
	require.NoError(t, err)
	for _, f := range rep.Findings {
		if f.ID == FindingInterpreter || f.ID == FindingRiskySigner {
			assert.Equal(t, SeverityWarning, f.Severity, f.Message)
		}
	}
}

// TestCheckLintsPartialPolicy: check of a policy generated from a partial read fails (exit 1
// in the CLI) and names every file the warnings name.
func TestCheckLintsPartialPolicy(t *testing.T) {
	pol := checkBase()
	pol.Partial = true
	pol.Warnings = append(pol.Warnings,
		edrpolicy.Warning{Code: edrpolicy.WarnUnreadable, Message: "x", Files: []string{"root/a.exe"}},
		edrpolicy.Warning{Code: edrpolicy.WarnUnreadable, Message: "y", Files: []string{`"root/b\xff.exe"`}})
	rep, err := Run(context.Background(), pol, Options{Now: testNow})
	require.NoError(t, err)
	var files []string
	for _, f := range rep.Findings {
		if f.ID == FindingUnreadable {
			assert.Equal(t, SeverityError, f.Severity)
			assert.Contains(t, f.Message, "the policy was generated from a partial read")
			files = append(files, f.File)
		}
	}
	assert.ElementsMatch(t, []string{"root/a.exe", `"root/b\xff.exe"`}, files)
	assert.True(t, rep.Failed())
}
