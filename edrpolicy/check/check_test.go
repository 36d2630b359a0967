package check

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/signers"
)

// checkBase is a clean Windows policy at level signer: a hash rule, a signer rule and a cache
// scan exclusion. Check finds nothing in it.
func checkBase() *edrpolicy.Policy {
	cert := *vendorCert
	return &edrpolicy.Policy{
		SchemaVersion: edrpolicy.SchemaVersion, Profile: "myapp", OS: "windows", AppVersion: "1.0.0", Level: edrpolicy.CriterionSigner,
		Rules: []edrpolicy.Rule{
			{Criterion: edrpolicy.CriterionHash, Value: strings.Repeat("a", 64), Platform: "windows", Role: "executable", Files: []string{`C:\App\uninstall.exe`}},
			{Criterion: edrpolicy.CriterionSigner, Value: cert.ThumbprintSHA1, Platform: "windows", Role: "executable", Files: []string{`C:\App\app.exe`}, Signer: &cert,
				Governance: edrpolicy.Governance{Expires: cert.NotAfter.Format(time.RFC3339)}},
			{Criterion: edrpolicy.CriterionPath, Value: `C:\ProgramData\App\cache`, Platform: "windows", Role: "cache", Match: edrpolicy.MatchSubfolders, Files: []string{`C:\ProgramData\App\cache`}},
		},
		Warnings: []edrpolicy.Warning{},
	}
}

// fnd is a finding in test tables: id, severity, rule index (-1 for none) and message.
type fnd struct {
	id       string
	severity Severity
	rule     int
	msg      string
}

func findingsOf(rep *Report) []fnd {
	out := []fnd{}
	for _, f := range rep.Findings {
		r := -1
		if f.Rule != nil {
			r = *f.Rule
		}
		out = append(out, fnd{f.ID, f.Severity, r, f.Message})
	}
	return out
}

func TestCheckLint(t *testing.T) {
	past := testNow.AddDate(0, 0, -1)
	cases := []struct {
		name   string
		mutate func(p *edrpolicy.Policy)
		want   []fnd
	}{
		{"clean", func(p *edrpolicy.Policy) {}, nil},
		{"schema version", func(p *edrpolicy.Policy) { p.SchemaVersion = 2 },
			[]fnd{{"EDR001", "error", -1, "schema_version 2: this edrpolicy reads 1"}}},
		{"os", func(p *edrpolicy.Policy) { p.OS = "beos" },
			[]fnd{{"EDR001", "error", -1, `os "beos": want windows, mac or linux`}}},
		{"level", func(p *edrpolicy.Policy) { p.Level = "file" },
			[]fnd{{"EDR001", "error", -1, `level "file": want hash, signer or path`}}},
		{"no rules", func(p *edrpolicy.Policy) { p.Rules = nil },
			[]fnd{{"EDR001", "warning", -1, "the policy has no rules: it allows nothing"}}},
		{"criterion", func(p *edrpolicy.Policy) { p.Rules[0].Criterion = "cdhash" },
			[]fnd{{"EDR002", "error", 0, `criterion "cdhash": want hash, signer or path`}}},
		{"role missing", func(p *edrpolicy.Policy) { p.Rules[0].Role = "" },
			[]fnd{{"EDR003", "error", 0, `role "": want executable, cache, logs, identity, config or archive`}}},
		{"role unknown", func(p *edrpolicy.Policy) { p.Rules[2].Role = "temp" },
			[]fnd{{"EDR003", "error", 2, `role "temp": want executable, cache, logs, identity, config or archive`}}},
		{"platform unknown", func(p *edrpolicy.Policy) { p.Rules[0].Platform = "amiga" },
			[]fnd{{"EDR004", "error", 0, `platform "amiga": want windows, mac or linux`}}},
		{"platform other os", func(p *edrpolicy.Policy) { p.Rules[0].Platform = "mac" },
			[]fnd{{"EDR004", "warning", 0, "platform mac in a policy for windows"}}},
		{"hash upper case", func(p *edrpolicy.Policy) { p.Rules[0].Value = strings.Repeat("A", 64) },
			[]fnd{{"EDR005", "error", 0, `hash rule value "` + strings.Repeat("A", 64) + `" is not a SHA-256: want 64 lower-case hex digits`}}},
		{"hash short", func(p *edrpolicy.Policy) { p.Rules[0].Value = "abc" },
			[]fnd{{"EDR005", "error", 0, `hash rule value "abc" is not a SHA-256: want 64 lower-case hex digits`}}},
		{"sha1 and md5", func(p *edrpolicy.Policy) {
			p.Rules[0].SHA1, p.Rules[0].MD5 = strings.Repeat("b", 64), strings.Repeat("c", 31)
		},
			[]fnd{
				{"EDR006", "error", 0, `md5 "` + strings.Repeat("c", 31) + `": want 32 lower-case hex digits`},
				{"EDR006", "error", 0, `sha1 "` + strings.Repeat("b", 64) + `": want 40 lower-case hex digits`},
			}},
		{"sha1 and md5 fine", func(p *edrpolicy.Policy) {
			p.Rules[0].SHA1, p.Rules[0].MD5 = strings.Repeat("b", 40), strings.Repeat("c", 32)
		}, nil},
		{"signer without value", func(p *edrpolicy.Policy) { p.Rules[1].Value = "" },
			[]fnd{{"EDR007", "error", 1, "signer rule without a value: want the leaf thumbprint or the Apple Team ID"}}},
		{"signer without certificate", func(p *edrpolicy.Policy) { p.Rules[1].Signer = nil; p.Rules[1].Expires = "" },
			[]fnd{{"EDR007", "error", 1, "signer rule without a signer certificate thumbprint or team_id: nothing identifies the signer"}}},
		{"signer value not its thumbprint", func(p *edrpolicy.Policy) { p.Rules[1].Value = strings.Repeat("9", 40) },
			[]fnd{{"EDR007", "error", 1, "signer rule value " + strings.Repeat("9", 40) + " is neither thumbprint of its signer certificate"}}},
		{"signer by sha256 thumbprint", func(p *edrpolicy.Policy) { p.Rules[1].Value = p.Rules[1].Signer.ThumbprintSHA256 }, nil},
		{"team id", func(p *edrpolicy.Policy) { p.Rules[1].Value, p.Rules[1].TeamID = "ABCDE12345", "ABCDE12345" }, nil},
		{"team id mismatch", func(p *edrpolicy.Policy) { p.Rules[1].Value, p.Rules[1].TeamID = "ABCDE12345", "ZZZZZ99999" },
			[]fnd{{"EDR007", "error", 1, "signer rule value ABCDE12345 is not its team_id ZZZZZ99999"}}},
		{"path without match", func(p *edrpolicy.Policy) { p.Rules[2].Match = "" },
			[]fnd{{"EDR008", "error", 2, "path rule without match: want file, folder or subfolders"}}},
		{"path unknown match", func(p *edrpolicy.Policy) { p.Rules[2].Match = "glob" },
			[]fnd{{"EDR008", "error", 2, `match "glob": want file, folder or subfolders`}}},
		{"path without value", func(p *edrpolicy.Policy) { p.Rules[2].Value = " " },
			[]fnd{{"EDR008", "error", 2, "path rule without a value"}}},
		{"guardrail", func(p *edrpolicy.Policy) { p.Rules[2].Value = `C:\Program Files` },
			[]fnd{{"EDR009", "error", 2, `path rule C:\Program Files is the whole of Program Files: narrow the path; export refuses it unless forced`}}},
		{"guardrail temp", func(p *edrpolicy.Policy) { p.Rules[2].Value = `C:\Windows\Temp\App` },
			[]fnd{{"EDR009", "error", 2, `path rule C:\Windows\Temp\App is a temp folder: narrow the path; export refuses it unless forced`}}},
		{"guardrail forced", func(p *edrpolicy.Policy) {
			p.Rules[2].Value = `C:\Program Files`
			p.Warnings = []edrpolicy.Warning{{Code: edrpolicy.WarnGuardrailForced, Message: "kept", Files: []string{`C:\Program Files`}}}
			// A guardrail-forced warning is a record anyone can write: still an error, as export
			// refuses the rule unless it is given --force.
		}, []fnd{{"EDR009", "error", 2, `path rule C:\Program Files is the whole of Program Files: the policy's warnings record it as kept by a forced decision, but export does not trust a policy's warnings and refuses it unless forced`}}},
		{"executable folder", func(p *edrpolicy.Policy) {
			p.Level = edrpolicy.CriterionPath
			p.Rules[2].Role, p.Rules[2].Value = "executable", `C:\Program Files\App`
		}, []fnd{{"EDR010", "error", 2, `executable path rule over a folder (C:\Program Files\App, match subfolders): never allowed, it trusts whatever lands there; use hash or signer rules, or exact file paths`}}},
		{"executable file path at level path", func(p *edrpolicy.Policy) {
			p.Level = edrpolicy.CriterionPath
			p.Rules[2].Role, p.Rules[2].Value, p.Rules[2].Match = "executable", `C:\Program Files\App\app.exe`, edrpolicy.MatchFile
		}, nil},
		{"signer expired", func(p *edrpolicy.Policy) { setNotAfter(&p.Rules[1], past) },
			[]fnd{{"EDR011", "error", 1, "signer certificate Vendor Inc expired on 2025-12-31: files signed after that carry a renewed certificate this rule does not match"}}},
		{"signer expired, signatures timestamped while valid", func(p *edrpolicy.Policy) { setNotAfter(&p.Rules[1], past); p.Rules[1].Timestamped = true },
			[]fnd{{"EDR011", "warning", 1, "signer certificate Vendor Inc expired on 2025-12-31; its signatures were timestamped while it was valid, so they stay valid: files signed after that carry a renewed certificate this rule does not match"}}},
		{"signer expiring", func(p *edrpolicy.Policy) { setNotAfter(&p.Rules[1], testNow.AddDate(0, 0, 30)) },
			[]fnd{{"EDR012", "warning", 1, "signer certificate Vendor Inc expires on 2026-01-31, within 90 days: the next release will be signed with a renewed certificate"}}},
		{"signer not yet expiring", func(p *edrpolicy.Policy) { setNotAfter(&p.Rules[1], testNow.AddDate(0, 0, 91)) }, nil},
		{"governance past", func(p *edrpolicy.Policy) { p.Rules[0].Expires = "2025-06-01T00:00:00Z" },
			[]fnd{{"EDR013", "error", 0, "rule expired on 2025-06-01: review it (renew the approval with a new expiry, or remove the rule)"}}},
		{"governance past on a signer rule", func(p *edrpolicy.Policy) { p.Rules[1].Expires = "2025-06-01T00:00:00Z" },
			[]fnd{{"EDR013", "error", 1, "rule expired on 2025-06-01: review it (renew the approval with a new expiry, or remove the rule)"}}},
		{"governance future", func(p *edrpolicy.Policy) { p.Rules[2].Expires = "2027-06-01T00:00:00Z" }, nil},
		{"governance malformed", func(p *edrpolicy.Policy) { p.Rules[2].Expires = "next week" },
			[]fnd{{"EDR013", "error", 2, `expires "next week" is not an RFC 3339 time such as 2027-01-31T00:00:00Z`}}},
		{"duplicate", func(p *edrpolicy.Policy) { p.Rules = append(p.Rules, p.Rules[0]) },
			[]fnd{{"EDR014", "warning", 3, "duplicate of rules[0]: remove one"}}},
		{"duplicate path differing in case", func(p *edrpolicy.Policy) {
			r := p.Rules[2]
			r.Value = `c:\programdata\app\CACHE\`
			p.Rules = append(p.Rules, r)
		}, []fnd{{"EDR014", "warning", 3, "duplicate of rules[2]: remove one"}}},
		{"file covered by folder", func(p *edrpolicy.Policy) {
			p.Rules = append(p.Rules, edrpolicy.Rule{Criterion: edrpolicy.CriterionPath, Value: `C:\ProgramData\App\Cache\sub\x.db`, Platform: "windows", Role: "cache", Match: edrpolicy.MatchFile})
		}, []fnd{{"EDR015", "warning", 3, `file rule already covered by the subfolders rule rules[2] (C:\ProgramData\App\cache): remove it or narrow the folder rule`}}},
		{"file beside folder", func(p *edrpolicy.Policy) {
			p.Rules = append(p.Rules, edrpolicy.Rule{Criterion: edrpolicy.CriterionPath, Value: `C:\ProgramData\App\cache2\x.db`, Platform: "windows", Role: "cache", Match: edrpolicy.MatchFile})
		}, nil},
		{"weaker than level", func(p *edrpolicy.Policy) { p.Level = edrpolicy.CriterionHash },
			[]fnd{{"EDR016", "warning", 1, "signer rule for program files in a policy of level hash: a weaker criterion than the policy accepts"}}},
		{"several, sorted errors first", func(p *edrpolicy.Policy) {
			p.Rules[0].Expires = "2025-06-01T00:00:00Z"
			p.Rules[2].Match = ""
			p.Rules[0].Role = "x"
		}, []fnd{
			{"EDR003", "error", 0, `role "x": want executable, cache, logs, identity, config or archive`},
			{"EDR008", "error", 2, "path rule without match: want file, folder or subfolders"},
			{"EDR013", "error", 0, "rule expired on 2025-06-01: review it (renew the approval with a new expiry, or remove the rule)"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := checkBase()
			tc.mutate(p)
			rep, err := Run(context.Background(), p, Options{Now: testNow})
			require.NoError(t, err)
			want := tc.want
			if want == nil {
				want = []fnd{}
			}
			assert.Equal(t, want, findingsOf(rep))
			failed := false
			for _, f := range want {
				failed = failed || f.severity == SeverityError
			}
			assert.Equal(t, failed, rep.Failed())
			assert.Nil(t, rep.Simulation)
			for _, f := range rep.Findings {
				if f.Rule != nil {
					assert.Equal(t, p.Rules[*f.Rule].Criterion, f.Criterion)
					assert.Equal(t, p.Rules[*f.Rule].Value, f.Value)
				}
			}
		})
	}
}

func setNotAfter(r *edrpolicy.Rule, t time.Time) {
	c := *r.Signer
	c.NotAfter = t
	r.Signer = &c
	r.Expires = t.Format(time.RFC3339)
}

func TestCheckExpiryWarningOption(t *testing.T) {
	p := checkBase()
	setNotAfter(&p.Rules[1], testNow.AddDate(0, 0, 100))
	rep, err := Run(context.Background(), p, Options{Now: testNow, ExpiryWarning: 120 * 24 * time.Hour})
	require.NoError(t, err)
	assert.Equal(t, []fnd{{"EDR012", "warning", 1, "signer certificate Vendor Inc expires on 2026-04-11, within 120 days: the next release will be signed with a renewed certificate"}}, findingsOf(rep))
	assert.Equal(t, "0 errors, 1 warning, 0 notes", rep.Summary.Text)
	assert.False(t, rep.Failed())
}

func TestCheckNilPolicy(t *testing.T) {
	_, err := Run(context.Background(), nil, Options{})
	require.EqualError(t, err, "check: no policy")
}

func TestCheckRootErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := Run(context.Background(), checkBase(), Options{Roots: []string{file}})
	require.EqualError(t, err, "check: Roots "+strconv.Quote(file)+": not a directory (give the install folder)")
	_, err = Run(context.Background(), checkBase(), Options{Roots: []string{filepath.Join(dir, "missing")}})
	require.ErrorContains(t, err, "check: Roots "+strconv.Quote(filepath.Join(dir, "missing"))+": stat "+filepath.Join(dir, "missing"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, checkBase(), Options{Roots: []string{dir}})
	require.ErrorIs(t, err, context.Canceled)
}

func TestFindingRulesCatalogue(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for _, r := range FindingRules() {
		assert.False(t, seen[r.ID], r.ID)
		assert.Greater(t, r.ID, prev, "ids in order")
		assert.Contains(t, []Severity{SeverityError, SeverityWarning, SeverityNote}, r.Severity)
		assert.NotEmpty(t, r.Description)
		seen[r.ID], prev = true, r.ID
	}
	for _, id := range []string{FindingPolicyHeader, FindingCriterion, FindingRole, FindingPlatform, FindingHashValue, FindingHashExtra,
		FindingSignerIdentity, FindingPathMatch, FindingGuardrail, FindingExecutableFolder, FindingSignerExpired, FindingSignerExpiring,
		FindingGovernanceExpires, FindingDuplicate, FindingCoveredByFolder, FindingWeakerThanLevel, FindingNotCovered,
		FindingPathTampered, FindingStaleHash, FindingUnusedSigner, FindingUnreadable, FindingNoInstallPath,
		FindingManifest, FindingManifestMismatch, FindingManifestMissing, FindingManifestUnlisted, FindingManifestEscape,
		FindingVendorFile, FindingNoPolicy, FindingVendorNotCovered, FindingRuleNotExported, FindingEntryNotInPolicy,
		FindingInterpreter, FindingRiskySigner, FindingUnsealedBundle} {
		assert.True(t, seen[id], id)
	}
	assert.Len(t, seen, 35)
}

func TestPathRuleMatches(t *testing.T) {
	cases := []struct {
		platform profile.OS
		value    string
		match    edrpolicy.Match
		path     string
		want     bool
	}{
		{"windows", `C:\App\app.exe`, edrpolicy.MatchFile, `c:\app\APP.exe`, true},
		{"windows", `C:\App\app.exe`, edrpolicy.MatchFile, `C:\App\app.exe.bak`, false},
		{"windows", `C:\App`, edrpolicy.MatchFolder, `C:\App\app.exe`, true},
		{"windows", `C:\App`, edrpolicy.MatchFolder, `C:\App\bin\app.exe`, false},
		{"windows", `C:\App\`, edrpolicy.MatchSubfolders, `C:\App\bin\app.exe`, true},
		{"windows", `C:\App`, edrpolicy.MatchSubfolders, `C:\Apps\app.exe`, false},
		{"windows", `C:\Users\*\AppData\Local\App`, edrpolicy.MatchSubfolders, `C:\Users\ann\AppData\Local\App\x\y.exe`, true},
		{"windows", `C:\Users\*\AppData\Local\App`, edrpolicy.MatchSubfolders, `C:\Users\ann\AppData\Local\Other\y.exe`, false},
		{"mac", "/Applications/App.app", edrpolicy.MatchSubfolders, "/Applications/App.app/Contents/MacOS/App", true},
		{"mac", "/Applications/App.app/Contents/MacOS/App", edrpolicy.MatchFile, "/applications/app.app/Contents/MacOS/App", false},
		{"linux", "/opt/app/bin/tool", edrpolicy.MatchFile, "/opt/app/bin/tool", true},
		{"linux", "/opt/app", "", "/opt/app/tool", false},
	}
	for _, tc := range cases {
		r := &edrpolicy.Rule{Criterion: edrpolicy.CriterionPath, Value: tc.value, Match: tc.match}
		assert.Equal(t, tc.want, pathRuleMatches(r, tc.platform, tc.path), "%s %s %s", tc.value, tc.match, tc.path)
	}
}

func TestSignerMatches(t *testing.T) {
	valid := authSig(vendorCert, signers.StatusValid, signers.ChainUnknownRoot, false)
	other := authSig(otherCert, signers.StatusValid, signers.ChainTrusted, false)
	pe := func(status signers.Status, orig string, sigs ...signers.Signature) *edrpolicy.FileEvidence {
		f := peFile("r", "bin/app.exe", strings.Repeat("1", 64), status, sigs...)
		if orig != "" {
			f.PE = &signers.PEInfo{Version: &signers.PEVersion{OriginalFilename: orig}}
		}
		return &f
	}
	mac := func(team, id string, status signers.Status) *edrpolicy.FileEvidence {
		return &edrpolicy.FileEvidence{Path: "App.app/Contents/MacOS/App", SignatureStatus: status,
			Signatures: []signers.Signature{apple(team, id, status, signers.ChainTrusted)}}
	}
	byThumb := &edrpolicy.Rule{Criterion: edrpolicy.CriterionSigner, Value: vendorCert.ThumbprintSHA1}
	byThumb256 := &edrpolicy.Rule{Criterion: edrpolicy.CriterionSigner, Value: vendorCert.ThumbprintSHA256}
	narrowed := &edrpolicy.Rule{Criterion: edrpolicy.CriterionSigner, Value: vendorCert.ThumbprintSHA1, FileName: "App.exe"}
	team := &edrpolicy.Rule{Criterion: edrpolicy.CriterionSigner, Value: "TEAM123456", TeamID: "TEAM123456"}
	teamID := &edrpolicy.Rule{Criterion: edrpolicy.CriterionSigner, Value: "TEAM123456", TeamID: "TEAM123456", SigningID: "com.example.app"}
	cases := []struct {
		name string
		r    *edrpolicy.Rule
		f    *edrpolicy.FileEvidence
		want bool
	}{
		{"thumbprint", byThumb, pe(signers.StatusValid, "", valid), true},
		{"sha256 thumbprint", byThumb256, pe(signers.StatusValid, "", valid), true},
		{"nested signature", byThumb, pe(signers.StatusValid, "", other, authSig(vendorCert, signers.StatusValid, "", true)), true},
		{"other signer", byThumb, pe(signers.StatusValid, "", other), false},
		{"file invalid", byThumb, pe(signers.StatusInvalid, "", authSig(vendorCert, signers.StatusInvalid, "", false)), false},
		{"file invalid, signature entry valid", byThumb, pe(signers.StatusInvalid, "", valid), false},
		{"narrowed by base name", narrowed, pe(signers.StatusValid, "", valid), true},
		{"narrowed by original filename", narrowed, pe(signers.StatusValid, "other.exe", valid), false},
		{"narrowed, original filename matches", &edrpolicy.Rule{Criterion: edrpolicy.CriterionSigner, Value: vendorCert.ThumbprintSHA1, FileName: "other.exe"}, pe(signers.StatusValid, "other.exe", valid), true},
		{"team id", team, mac("TEAM123456", "com.example.app", signers.StatusValid), true},
		{"other team id", team, mac("OTHER12345", "com.example.app", signers.StatusValid), false},
		{"ad-hoc", team, mac("TEAM123456", "com.example.app", signers.StatusAdhoc), false},
		{"signing id", teamID, mac("TEAM123456", "com.example.app", signers.StatusValid), true},
		{"other signing id", teamID, mac("TEAM123456", "com.example.helper", signers.StatusValid), false},
	}
	// The vendor leaf's chain is unknown-root: it counts because the policy pins it, as
	// Decide did.
	pins := []string{vendorCert.ThumbprintSHA1}
	c := &checker{pol: &edrpolicy.Policy{PinnedSigners: pins}, install: edrpolicy.NewInstall(&edrpolicy.Inventory{}, pins, testNow)}
	for _, tc := range cases {
		assert.Equal(t, tc.want, c.signerMatches(tc.r, tc.f), tc.name)
	}
}

// elf writes a minimal ELF file (format elf: an executable no signature covers).
func elf(t *testing.T, file, note string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
	data := append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 57)...)
	require.NoError(t, os.WriteFile(file, append(data, note...), 0o755))
}

// TestCheckSimulateInferred simulates a Linux policy of a profile that is not built in: the
// endpoint folder is inferred from the policy's own paths.
func TestCheckSimulateInferred(t *testing.T) {
	root := t.TempDir()
	elf(t, filepath.Join(root, "bin", "tool"), "tool")
	elf(t, filepath.Join(root, "bin", "app"), "app")
	elf(t, filepath.Join(root, "lib", "helper"), "helper")
	require.NoError(t, os.WriteFile(filepath.Join(root, "README"), []byte("not code"), 0o644))
	inv, err := edrpolicy.Inspect(context.Background(), []string{root}, edrpolicy.InspectOptions{})
	require.NoError(t, err)
	sum := map[string]string{}
	for _, f := range inv.Files {
		sum[f.Path] = f.SHA256
	}
	pol := &edrpolicy.Policy{SchemaVersion: 1, Profile: "myapp", OS: "linux", Level: edrpolicy.CriterionPath, Warnings: []edrpolicy.Warning{}, Rules: []edrpolicy.Rule{
		{Criterion: edrpolicy.CriterionHash, Value: sum["bin/app"], Platform: "linux", Role: "executable", Files: []string{"/opt/myapp/bin/app"}},
		{Criterion: edrpolicy.CriterionHash, Value: sum["README"], Platform: "linux", Role: "config", Files: []string{"/opt/myapp/README"}},
		{Criterion: edrpolicy.CriterionHash, Value: strings.Repeat("0", 64), Platform: "linux", Role: "executable", Files: []string{"/opt/myapp/bin/old"}},
		{Criterion: edrpolicy.CriterionPath, Value: "/opt/myapp/bin/tool", Platform: "linux", Role: "executable", Match: edrpolicy.MatchFile, Files: []string{"/opt/myapp/bin/tool"}},
		{Criterion: edrpolicy.CriterionSigner, Value: strings.Repeat("1", 40), Platform: "linux", Role: "executable", Signer: &signers.Certificate{ThumbprintSHA1: strings.Repeat("1", 40)}, Files: []string{"/opt/myapp/bin/signed"}},
	}}
	rep, err := Run(context.Background(), pol, Options{Roots: []string{root}, Now: testNow})
	require.NoError(t, err)
	assert.Equal(t, []fnd{
		{"EDR101", "error", -1, "would not be allowed: no hash, signer or path rule covers it (unsigned)"},
		{"EDR103", "warning", 2, "hash rule matches no inspected file: stale (a new build replaced the file, or it is gone)"},
		{"EDR104", "warning", 4, "signer rule matches no inspected file: its certificate was renewed or its files are gone"},
	}, findingsOf(rep))
	assert.Equal(t, "/opt/myapp/lib/helper", rep.Findings[0].File)
	assert.Equal(t, "/opt/myapp/bin/old", rep.Findings[1].File)
	require.NotNil(t, rep.Simulation)
	s := rep.Simulation
	assert.Equal(t, []SimulatedRoot{{Root: root, InstallPaths: []string{"/opt/myapp"}, From: "policy"}}, s.Roots)
	assert.Equal(t, "3 executables: 1 covered by hash, 0 by signer, 1 by path, 1 not covered", s.Text)
	require.Len(t, s.Files, 3)
	assert.Equal(t, root+"/bin/app", s.Files[0].Path)
	assert.Equal(t, edrpolicy.CriterionHash, s.Files[0].CoveredBy)
	assert.Equal(t, 0, *s.Files[0].Rule)
	assert.Equal(t, []string{"/opt/myapp/bin/tool"}, s.Files[1].Endpoints)
	assert.Equal(t, edrpolicy.CriterionPath, s.Files[1].CoveredBy)
	assert.Equal(t, edrpolicy.Criterion(""), s.Files[2].CoveredBy)
	assert.Nil(t, s.Files[2].Rule)
	assert.True(t, rep.Failed())

	// --install-path given: the option wins, and the path rule no longer matches.
	rep, err = Run(context.Background(), pol, Options{Roots: []string{root}, Now: testNow, InstallPaths: map[string][]string{root + "/": {"/usr/lib/myapp"}}})
	require.NoError(t, err)
	assert.Equal(t, []SimulatedRoot{{Root: root, InstallPaths: []string{"/usr/lib/myapp"}, From: "option"}}, rep.Simulation.Roots)
	assert.Equal(t, "3 executables: 1 covered by hash, 0 by signer, 0 by path, 2 not covered", rep.Simulation.Text)

	// No policy path ends with the root's files: a note, and the inspected paths are used.
	pol.Rules = pol.Rules[:1]
	pol.Rules[0].Files = nil
	rep, err = Run(context.Background(), pol, Options{Roots: []string{root}, Now: testNow})
	require.NoError(t, err)
	assert.Equal(t, []fnd{
		{"EDR101", "error", -1, "would not be allowed: no hash, signer or path rule covers it (unsigned)"},
		{"EDR101", "error", -1, "would not be allowed: no hash, signer or path rule covers it (unsigned)"},
		{"EDR106", "note", -1, "the endpoint folder of root " + root + " is unknown (no profile mapping, no policy path ends with its files): path rules were matched against the inspected paths; give its install path"},
	}, findingsOf(rep))
	assert.Equal(t, root+"/bin/tool", rep.Findings[0].File)
	assert.Equal(t, root+"/lib/helper", rep.Findings[1].File)
	assert.Equal(t, []SimulatedRoot{{Root: root, From: "none"}}, rep.Simulation.Roots)
}

// TestCheckKeptRulesAreNotes: rules kept from the previous version for the rollout window
// match nothing in the new install by design: notes, not warnings.
func TestCheckKeptRulesAreNotes(t *testing.T) {
	root := t.TempDir()
	elf(t, filepath.Join(root, "bin", "app"), "app")
	inv, err := edrpolicy.Inspect(context.Background(), []string{root}, edrpolicy.InspectOptions{})
	require.NoError(t, err)
	pol := &edrpolicy.Policy{SchemaVersion: 1, Profile: "myapp", OS: "linux", AppVersion: "2.0.0", Level: edrpolicy.CriterionHash, Warnings: []edrpolicy.Warning{}, Rules: []edrpolicy.Rule{
		{Criterion: edrpolicy.CriterionHash, Value: inv.Files[0].SHA256, Platform: "linux", Role: "executable", Files: []string{"/opt/myapp/bin/app"}},
		{Criterion: edrpolicy.CriterionHash, Value: strings.Repeat("0", 64), Platform: "linux", Role: "executable", Files: []string{"/opt/myapp/bin/app"}, AppVersion: "1.0.0"},
	}}
	rep, err := Run(context.Background(), pol, Options{Roots: []string{root}, Now: testNow})
	require.NoError(t, err)
	assert.Equal(t, []fnd{{"EDR103", "note", 1, "hash rule matches no inspected file: stale (a new build replaced the file, or it is gone) (kept from version 1.0.0 for the rollout window: expected while endpoints run both versions)"}}, findingsOf(rep))
	assert.False(t, rep.Failed())
	assert.Equal(t, "0 errors, 0 warnings, 1 note", rep.Summary.Text)
}
