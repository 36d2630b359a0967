package edrpolicy

import (
	"errors"
	"maps"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func leaf(name, sha1 string, notAfter time.Time) *signers.Certificate {
	return &signers.Certificate{
		Subject: "CN=" + name, CommonName: name, Organization: name, Issuer: "CN=Test CA", Serial: "01",
		ThumbprintSHA1: sha1, ThumbprintSHA256: strings.Repeat(sha1[:2], 32),
		NotBefore: testNow.AddDate(-1, 0, 0), NotAfter: notAfter,
		ExtKeyUsage: []string{"code-signing"}, KeyUsage: []string{"digital-signature"},
	}
}

var (
	vendorCert = leaf("Vendor Inc", "1111111111111111111111111111111111111111", testNow.AddDate(2, 0, 0))
	otherCert  = leaf("Runtime Corp", "2222222222222222222222222222222222222222", testNow.AddDate(2, 0, 0))
	soonCert   = leaf("Expiring Ltd", "3333333333333333333333333333333333333333", testNow.AddDate(0, 0, 30))
)

func authSig(cert *signers.Certificate, status signers.Status, chain signers.Chain, nested bool) signers.Signature {
	s := signers.Signature{Kind: signers.KindAuthenticode, Status: status, Chain: chain, Signer: cert, Nested: nested, DigestAlgorithm: "sha256"}
	if chain == signers.ChainTrusted {
		s.Anchor = signers.AnchorSystem
	}
	return s
}

func peFile(root, rel, sha string, status signers.Status, sigs ...signers.Signature) FileEvidence {
	return FileEvidence{Path: rel, Root: root, Size: 100, Format: hashing.FormatPE, Digests: hashing.Digests{SHA256: sha}, SignatureStatus: status, Signatures: sigs,
		PE: &signers.PEInfo{Machine: "amd64", Version: &signers.PEVersion{OriginalFilename: strings.ToUpper(rel[strings.LastIndex(rel, "/")+1:])}}}
}

// apple is a Developer ID signature: the leaf's OU is the Team ID and it carries the Developer
// ID Application extension; a trusted chain ends at Apple's root.
func apple(team, signingID string, status signers.Status, chain signers.Chain) signers.Signature {
	c := leaf("Developer ID Application: X ("+team+")", "4444444444444444444444444444444444444444", testNow.AddDate(3, 0, 0))
	c.OrganizationalUnits = []string{team}
	c.AppleExtensions = []string{"1.2.840.113635.100.6.1.13"}
	s := signers.Signature{Kind: signers.KindApple, Status: status, Chain: chain, TeamID: team, SigningID: signingID, Signer: c}
	if chain == signers.ChainTrusted {
		s.Anchor = signers.AnchorApple
	}
	return s
}

func machoFile(root, rel, sha string, status signers.Status, sigs ...signers.Signature) FileEvidence {
	return FileEvidence{Path: rel, Root: root, Size: 100, Format: hashing.FormatMachO, Digests: hashing.Digests{SHA256: sha}, SignatureStatus: status, Signatures: sigs}
}

func h(c byte) string { return strings.Repeat(string(c), 64) }

func code42(t *testing.T) *profile.Profile {
	t.Helper()
	p, err := profile.BuiltIn("code42")
	require.NoError(t, err)
	return p
}

// windowsInstall is a synthetic Code42 11.x Windows install as Inspect would report it.
func windowsInstall() *Inventory {
	const root = "/tmp/inst"
	return &Inventory{SchemaVersion: 1, Files: []FileEvidence{
		peFile(root, "CrashPlanService.exe", h('a'), signers.StatusValid, authSig(vendorCert, signers.StatusValid, signers.ChainTrusted, false)),
		peFile(root, "electron/CrashPlanDesktop.exe", h('b'), signers.StatusValid, authSig(vendorCert, signers.StatusValid, signers.ChainUnknownRoot, false)),
		peFile(root, "vcruntime140.dll", h('c'), signers.StatusValid, authSig(otherCert, signers.StatusValid, signers.ChainTrusted, false)),
		peFile(root, "helper.exe", h('d'), signers.StatusUnsigned),
		peFile(root, "copy/helper.exe", h('d'), signers.StatusUnsigned),
		func() FileEvidence {
			f := peFile(root, "tampered.exe", h('e'), signers.StatusInvalid, authSig(vendorCert, signers.StatusInvalid, signers.ChainTrusted, false))
			f.Signatures[0].Error = "image digest mismatch"
			return f
		}(),
		peFile(root, "nested.dll", h('f'), signers.StatusValid,
			authSig(otherCert, signers.StatusValid, signers.ChainUnknownRoot, false),
			authSig(vendorCert, signers.StatusValid, signers.ChainTrusted, true)),
		{Path: "readme.txt", Root: root, Size: 5, Format: hashing.FormatOther, Digests: hashing.Digests{SHA256: h('9')}},
	}}
}

func winOpts(t *testing.T, level Criterion) DecideOptions {
	return DecideOptions{
		Profile: code42(t), OS: "windows", Version: "11.2.1", Product: "crashplan", Level: level, Now: testNow,
		InstallPaths: map[string][]string{"/tmp/inst": {`C:\Program Files\CrashPlan`}},
	}
}

const pf = `C:\Program Files\CrashPlan\`

// scanExclusionsWindows are the default scan exclusions (caches only; archives are opt-in).
func scanExclusionsWindows() []Rule {
	return []Rule{
		{Criterion: "path", Value: `C:\ProgramData\CrashPlan\cache`, Platform: "windows", Role: "cache", Match: "subfolders", Files: []string{`C:\ProgramData\CrashPlan\cache`},
			Reason: "scan exclusion the source recommends: cache files are benign records of the app's own operations", Source: "000_c8ea74c03d1e87fa.txt", Confidence: "vendor-doc"},
	}
}

// archiveExclusionWindows is the backup-archive scan exclusion IncludeArchives adds.
func archiveExclusionWindows() []Rule {
	return []Rule{
		{Criterion: "path", Value: `C:\ProgramData\CrashPlan\backupArchives`, Platform: "windows", Role: "archive", Match: "subfolders", Files: []string{`C:\ProgramData\CrashPlan\backupArchives`},
			Reason: "scan exclusion the source recommends: backup archives are compressed and encrypted; scan the source, not the archive", Source: "support.code42.com CrashPlan/4 Change where backup data is stored; 000_c8ea74c03d1e87fa.txt", Confidence: "inferred"},
	}
}

func stripCerts(rules []Rule) []Rule {
	out := append([]Rule(nil), rules...)
	for i := range out {
		out[i].Signer = nil
		out[i].Certificate = nil
	}
	return out
}

func TestDecideLevelHash(t *testing.T) {
	pol, err := Decide(windowsInstall(), winOpts(t, CriterionHash))
	require.NoError(t, err)
	reason := "hash level: the exact SHA-256 of this build"
	want := []Rule{
		{Criterion: "hash", Value: h('a'), Platform: "windows", Role: "executable", Files: []string{pf + "CrashPlanService.exe"}, Reason: reason, Source: "inspected"},
		{Criterion: "hash", Value: h('b'), Platform: "windows", Role: "executable", Files: []string{pf + `electron\CrashPlanDesktop.exe`}, Reason: reason, Source: "inspected"},
		{Criterion: "hash", Value: h('c'), Platform: "windows", Role: "executable", Files: []string{pf + "vcruntime140.dll"}, Reason: reason, Source: "inspected"},
		{Criterion: "hash", Value: h('d'), Platform: "windows", Role: "executable", Files: []string{pf + `copy\helper.exe`, pf + "helper.exe"}, Reason: reason, Source: "inspected"},
		{Criterion: "hash", Value: h('e'), Platform: "windows", Role: "executable", Files: []string{pf + "tampered.exe"}, Reason: reason, Source: "inspected"},
		{Criterion: "hash", Value: h('f'), Platform: "windows", Role: "executable", Files: []string{pf + "nested.dll"}, Reason: reason, Source: "inspected"},
	}
	assert.Equal(t, sortedRules(append(want, scanExclusionsWindows()...)), pol.Rules)
	assert.Equal(t, "7 files → 7 rules: 6 hash, 0 signer, 1 path", pol.Summary.Text)
	// Backup archives only when asked for: inferred defaults an administrator may have moved.
	opts := winOpts(t, CriterionHash)
	opts.IncludeArchives = true
	pol2, err := Decide(windowsInstall(), opts)
	require.NoError(t, err)
	assert.Equal(t, sortedRules(append(append(want, archiveExclusionWindows()...), scanExclusionsWindows()...)), pol2.Rules)
	assert.Equal(t, "7 files → 8 rules: 6 hash, 0 signer, 2 path", pol2.Summary.Text)
	assert.Equal(t, "crashplan", pol.Era)
	assert.Equal(t, "11.2.1", pol.AppVersion)
	codes := warningCodes(pol)
	assert.Contains(t, codes, WarnHashUpgrade)
	assert.Contains(t, codes, WarnTampered)
	assert.NotContains(t, codes, WarnUnknownSigner, "level hash needs no signer")
}

// sortedRules is rules in policy order (by first file; TestRulesSortedByFirstFile checks
// that order itself).
func sortedRules(rules []Rule) []Rule {
	out := append([]Rule(nil), rules...)
	sortRules(out)
	return out
}

func warningCodes(p *Policy) []WarningCode {
	var c []WarningCode
	for _, w := range p.Warnings {
		c = append(c, w.Code)
	}
	return c
}

func TestDecideLevelSigner(t *testing.T) {
	opts := winOpts(t, CriterionSigner)
	opts.PinSigners = []string{"11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11"}
	pol, err := Decide(windowsInstall(), opts)
	require.NoError(t, err)
	exp := Day(vendorCert.NotAfter).Format(time.RFC3339)
	want := []Rule{
		{Criterion: "hash", Value: h('d'), Platform: "windows", Role: "executable", Files: []string{pf + `copy\helper.exe`, pf + "helper.exe"}, Reason: "unsigned: no signature to trust", Source: "inspected"},
		{Criterion: "hash", Value: h('e'), Platform: "windows", Role: "executable", Files: []string{pf + "tampered.exe"}, Reason: "signature does not verify (tampered or malformed): image digest mismatch", Source: "inspected"},
		{Criterion: "signer", Value: vendorCert.ThumbprintSHA1, Platform: "windows", Role: "executable",
			Files: []string{pf + "CrashPlanService.exe", pf + `electron\CrashPlanDesktop.exe`, pf + "nested.dll"},
			// Each file with what its covering signature showed (desktop's chain is unknown:
			// the pin stands in for it).
			FileDigests: []FileDigest{{Path: pf + "CrashPlanService.exe", SHA256: h('a'), Chain: "trusted", Anchor: "system", Pinned: true},
				{Path: pf + `electron\CrashPlanDesktop.exe`, SHA256: h('b'), Chain: "unknown-root", Pinned: true},
				{Path: pf + "nested.dll", SHA256: h('f'), Chain: "trusted", Anchor: "system", Pinned: true}},
			Reason: "valid signature, leaf certificate pinned by its thumbprint; one rule per signer survives upgrades until the certificate is renewed", Source: "inspected", Governance: Governance{Expires: exp}},
		{Criterion: "signer", Value: otherCert.ThumbprintSHA1, Platform: "windows", Role: "executable", FileName: "VCRUNTIME140.DLL",
			Files:       []string{pf + "vcruntime140.dll"},
			FileDigests: []FileDigest{{Path: pf + "vcruntime140.dll", SHA256: h('c'), Chain: "trusted", Anchor: "system"}},
			Reason:      "valid signature, chain trusted to a root of this machine's trust store; the signer is neither pinned nor the profile's expected signer, so the rule is narrowed to this file", Source: "inspected", Governance: Governance{Expires: Day(otherCert.NotAfter).Format(time.RFC3339)}},
	}
	want = sortedRules(append(want, scanExclusionsWindows()...))
	assert.Equal(t, want, stripCerts(pol.Rules))
	assert.Equal(t, vendorCert, ruleByValue(t, pol, vendorCert.ThumbprintSHA1).Signer)
	assert.Equal(t, "7 files → 5 rules: 2 hash, 2 signer, 1 path", pol.Summary.Text)
}

// ruleByValue returns the one rule of pol with value v.
func ruleByValue(t *testing.T, pol *Policy, v string) *Rule {
	t.Helper()
	var found *Rule
	for i := range pol.Rules {
		if pol.Rules[i].Value == v {
			require.Nil(t, found, "two rules with value %s", v)
			found = &pol.Rules[i]
		}
	}
	require.NotNil(t, found, "no rule with value %s", v)
	return found
}

func TestDecideSignerFallbacks(t *testing.T) {
	// Without a pin, the unknown-root signature falls back to a hash; the trusted vendor
	// signature gets a rule narrowed to its file name (no expected Windows signer is known).
	pol, err := Decide(windowsInstall(), winOpts(t, CriterionSigner))
	require.NoError(t, err)
	byValue := map[string]Rule{}
	for _, r := range pol.Rules {
		byValue[r.Value+"|"+r.FileName] = r
	}
	assert.Equal(t, "signer chain unknown-root, and the leaf certificate (SHA-1 thumbprint "+vendorCert.ThumbprintSHA1+") is not pinned", byValue[h('b')+"|"].Reason)
	assert.Equal(t, []string{pf + "CrashPlanService.exe"}, byValue[vendorCert.ThumbprintSHA1+"|CRASHPLANSERVICE.EXE"].Files)
	// nested.dll: primary unknown-root, nested signature trusted → signer rule via the nested one.
	assert.Equal(t, []string{pf + "nested.dll"}, byValue[vendorCert.ThumbprintSHA1+"|NESTED.DLL"].Files)
	assert.Contains(t, warningCodes(pol), WarnUnknownSigner)
	for _, r := range pol.Rules {
		if r.Criterion == CriterionSigner {
			assert.NotContains(t, r.Files, pf+"tampered.exe", "a tampered file is never covered by a signer rule")
		}
	}
}

func TestDecideLevelPath(t *testing.T) {
	opts := winOpts(t, CriterionPath)
	opts.PinSigners = []string{vendorCert.ThumbprintSHA256}
	pol, err := Decide(windowsInstall(), opts)
	require.NoError(t, err)
	var got []string
	for _, r := range pol.Rules {
		got = append(got, string(r.Criterion)+" "+r.Value+" "+string(r.Match))
	}
	assert.Equal(t, []string{
		// Sorted by first file (byte order): CrashPlanService.exe is the signer rule's first.
		"signer " + vendorCert.ThumbprintSHA1 + " ",
		`path C:\Program Files\CrashPlan\copy\helper.exe file`,
		`path C:\Program Files\CrashPlan\helper.exe file`,
		"hash " + h('e') + " ", // tampered: hash only, never a path
		// Trusted but neither pinned nor expected: a signer rule would be narrowed to the
		// file, which no console can express, so the exact path the level allows.
		`path C:\Program Files\CrashPlan\vcruntime140.dll file`,
		`path C:\ProgramData\CrashPlan\cache subfolders`,
	}, got)
	for _, r := range pol.Rules {
		if r.Value == pf+"helper.exe" {
			assert.Equal(t, "no signer rule possible (unsigned: no signature to trust); the path level accepts an exact file path", r.Reason)
			assert.Equal(t, []FileDigest{{Path: pf + "helper.exe", SHA256: h('d')}}, r.FileDigests)
		}
		if r.Value == pf+"vcruntime140.dll" {
			assert.Contains(t, r.Reason, "no EDR console can express")
			assert.Equal(t, []FileDigest{{Path: pf + "vcruntime140.dll", SHA256: h('c')}}, r.FileDigests)
		}
		if r.Value == h('e') {
			assert.Contains(t, r.Reason, "a path rule would trust whatever replaces this file")
		}
	}
}

func TestDecideProducts(t *testing.T) {
	incydr := []string{"incydr-basic", "incydr-advanced", "incydr-gov-f1", "incydr-professional", "incydr-enterprise", "incydr-horizon", "incydr-gov-f2"}
	for _, osName := range []profile.OS{"windows", "mac", "linux"} {
		opts := DecideOptions{Profile: code42(t), OS: osName, Version: "10.4", Product: "crashplan", Now: testNow}
		pol, err := Decide(&Inventory{}, opts)
		require.NoError(t, err, osName)
		n := 0
		for _, r := range pol.Rules {
			if r.Role == "cache" || r.Role == "archive" {
				n++
			}
		}
		assert.Equal(t, 1, n, "crashplan %s: the cache only", osName)
		opts.IncludeArchives = true
		pol, err = Decide(&Inventory{}, opts)
		require.NoError(t, err, osName)
		n = 0
		for _, r := range pol.Rules {
			if r.Role == "cache" || r.Role == "archive" {
				n++
			}
		}
		assert.Equal(t, 2, n, "crashplan %s --include-archives", osName)
		// The Incydr path tables are unknown: without install paths, an error naming the gap
		// and the ways out; with them, no folder rule at all (not CrashPlan's), and a warning.
		for _, prod := range incydr {
			for _, v := range []string{"8.0", "10.4", "11.1", "12.0"} {
				opts := DecideOptions{Profile: code42(t), OS: osName, Version: v, Product: prod, Now: testNow}
				_, err := Decide(&Inventory{}, opts)
				var ue *profile.UnknownError
				require.ErrorAs(t, err, &ue, "%s %s %s", prod, osName, v)
				assert.Contains(t, err.Error(), "product "+prod)
				assert.Contains(t, err.Error(), "Incydr path tables")
				assert.Contains(t, err.Error(), "Code42-AAT")
				assert.Contains(t, err.Error(), "--install-path DIR")
				opts.InstallPaths = map[string][]string{"/r": {"/opt/x"}}
				pol, err := Decide(&Inventory{}, opts)
				require.NoError(t, err, "%s %s %s", prod, osName, v)
				assert.Empty(t, pol.Rules, "%s %s %s", prod, osName, v)
				assert.Contains(t, warningCodes(pol), WarnUnknownPaths)
			}
		}
	}
	opts := DecideOptions{Profile: code42(t), OS: "linux", Version: "10.4", Product: "crashplan", NoScanExclusions: true, Now: testNow}
	pol, err := Decide(&Inventory{}, opts)
	require.NoError(t, err)
	assert.Empty(t, pol.Rules)
}

// The era, and with it the expected Team ID, depends on the product line: CrashPlan's 11.0
// rename is CrashPlan's separation from Code42; Code42-branded Incydr agents kept the Code42
// names through 11.x. Outside the eras a source gives, the era is unknown.
func TestDecideEraByProduct(t *testing.T) {
	for _, tc := range []struct {
		product, version, era, team string
		unknownEra                  bool
	}{
		{"crashplan", "8.0", "crashplan-legacy", "", false},
		{"crashplan", "8.2", "code42", "9YV9435DHD", false},
		{"crashplan", "10.9.1", "code42", "9YV9435DHD", false},
		{"crashplan", "11.0", "crashplan", "UGHXR79U6M", false},
		{"crashplan", "11.1.3", "crashplan", "UGHXR79U6M", false},
		{"incydr-basic", "8.2", "code42", "9YV9435DHD", false},
		{"incydr-basic", "11.1", "code42", "9YV9435DHD", false},
		{"incydr-gov-f2", "11.9.9", "code42", "9YV9435DHD", false},
		{"incydr-horizon", "11.0", "code42", "9YV9435DHD", false},
		{"incydr-advanced", "8.0", "", "", true},
		{"incydr-professional", "8.1", "", "", true},
		{"incydr-enterprise", "12.0", "", "", true},
	} {
		for _, osName := range []profile.OS{"mac", "windows"} {
			opts := DecideOptions{Profile: code42(t), OS: osName, Version: tc.version, Product: tc.product, Level: CriterionSigner, Now: testNow,
				InstallPaths: map[string][]string{"/tmp/mac": {"/Applications"}}, NoScanExclusions: true}
			if osName == "mac" && tc.product == "crashplan" && tc.version == "8.1" {
				opts.AssumePaths = "8.2"
			}
			pol, err := Decide(macInstall(), opts)
			require.NoError(t, err, "%s %s %s", tc.product, tc.version, osName)
			assert.Equal(t, tc.era, pol.Era, "%s %s %s", tc.product, tc.version, osName)
			assert.Equal(t, tc.unknownEra, slices.Contains(warningCodes(pol), WarnUnknownEra), "%s %s %s", tc.product, tc.version, osName)
			if osName != "mac" {
				continue
			}
			// The Code42 Team ID gets one broad rule only where it is the era's expected signer.
			var signingID string
			for _, r := range pol.Rules {
				if r.TeamID == "9YV9435DHD" {
					signingID = r.SigningID
				}
			}
			if tc.team == "9YV9435DHD" {
				assert.Empty(t, signingID, "%s %s: expected signer, not narrowed", tc.product, tc.version)
			} else {
				assert.Equal(t, "com.code42.app", signingID, "%s %s: not the era's signer, narrowed", tc.product, tc.version)
			}
		}
	}
}

func TestDecidePerOSFolders(t *testing.T) {
	for _, tc := range []struct {
		os             profile.OS
		version        string
		logs, archives bool
		want           []string
	}{
		{"linux", "6.8.1", true, true, []string{"/usr/local/crashplan/cache", "/usr/local/crashplan/log", "/usr/local/var/crashplan"}},
		{"linux", "6.8.1", true, false, []string{"/usr/local/crashplan/cache", "/usr/local/crashplan/log"}},
		{"linux", "6.8.2", true, true, []string{"/home/*/.code42/logs", "/usr/local/crashplan/cache", "/usr/local/crashplan/log", "/usr/local/var/crashplan"}},
		{"linux", "11.0", false, false, []string{"/usr/local/crashplan/cache"}},
		{"mac", "10.0", false, true, []string{"/Library/Application Support/CrashPlan/BackupArchives", "/Library/Caches/CrashPlan"}},
		{"mac", "10.0", false, false, []string{"/Library/Caches/CrashPlan"}},
		{"mac", "11.0", true, true, []string{"/Library/Application Support/CrashPlan/BackupArchives", "/Library/Caches/CrashPlan", "/Library/Logs/CrashPlan", "/Users/*/Library/Logs/CrashPlan"}},
		{"windows", "8.0", true, true, []string{`C:\ProgramData\CrashPlan\backupArchives`, `C:\ProgramData\CrashPlan\cache`, `C:\ProgramData\CrashPlan\log`, `C:\Users\*\AppData\Local\CrashPlan\log`}},
		{"windows", "11.1", false, false, []string{`C:\ProgramData\CrashPlan\cache`}},
		{"windows", "4.0", false, true, []string{`C:\ProgramData\CrashPlan\backupArchives`, `C:\ProgramData\CrashPlan\cache`}}, // the XP row is legacy-os only
	} {
		pol, err := Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: tc.os, Version: tc.version, IncludeLogs: tc.logs, IncludeArchives: tc.archives, Now: testNow})
		require.NoError(t, err)
		var got []string
		for _, r := range pol.Rules {
			got = append(got, r.Value)
		}
		assert.ElementsMatch(t, tc.want, got, "%s %s", tc.os, tc.version)
	}
}

func TestDecideUnknownVersion(t *testing.T) {
	_, err := Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "windows", Version: "8.1", Now: testNow})
	var ue *profile.UnknownError
	require.True(t, errors.As(err, &ue))
	assert.Contains(t, err.Error(), "--assume-paths 8.0|8.2")

	pol, err := Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "windows", Version: "8.1", AssumePaths: "8.2", Now: testNow})
	require.NoError(t, err)
	assert.Equal(t, "8.2", pol.AssumedPaths)
	assert.Equal(t, "", pol.Era, "8.1 belongs to no documented era")
	assert.Contains(t, warningCodes(pol), WarnAssumedPaths)

	_, err = Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "windows", Version: "8.2", AssumePaths: "8.0", Now: testNow})
	assert.ErrorContains(t, err, "only for a version no source covers")
	_, err = Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "windows", Now: testNow})
	assertOptionField(t, err, "Version")
	_, err = Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "mac", Version: "10.0", Install: "per-user", Now: testNow})
	assert.ErrorContains(t, err, "Mac per-user install table")
	_, err = Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "solaris", Version: "10.0"})
	assertOptionField(t, err, "OS")
	_, err = Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "mac", Version: "10.0", Level: "folder"})
	assertOptionField(t, err, "Level")
}

func TestDecideCloudNotes(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{{"4.7", true}, {"4.8", false}, {"4.9", false}, {"5.3", true}, {"5.4", false}} {
		pol, err := Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "linux", Version: tc.v, Now: testNow})
		require.NoError(t, err)
		got := false
		for _, w := range pol.Warnings {
			if w.Code == "note" && strings.Contains(w.Message, "cannot connect") {
				got = true
			}
		}
		assert.Equal(t, tc.want, got, tc.v)
	}
}

func macInstall() *Inventory {
	const root = "/tmp/mac"
	return &Inventory{SchemaVersion: 1, Files: []FileEvidence{
		{Path: "Code42.app", Root: root, Format: hashing.FormatAppBundle, SignatureStatus: signers.StatusValid,
			Bundle: &signers.BundleInfo{Identifier: "com.code42.app", ShortVersion: "10.4.1"}},
		machoFile(root, "Code42.app/Contents/MacOS/Code42", h('1'), signers.StatusValid, apple("9YV9435DHD", "com.code42.app", signers.StatusValid, signers.ChainTrusted)),
		machoFile(root, "Code42.app/Contents/Helpers/other", h('2'), signers.StatusValid, apple("ZZZZZZZZZZ", "com.example.helper", signers.StatusValid, signers.ChainTrusted)),
		machoFile(root, "Code42.app/Contents/Helpers/adhoc", h('3'), signers.StatusAdhoc, signers.Signature{Kind: signers.KindApple, Status: signers.StatusAdhoc}),
		{Path: "Broken.app", Root: root, Format: hashing.FormatAppBundle, SignatureStatus: signers.StatusValid,
			Bundle: &signers.BundleInfo{Modified: []string{"Contents/Resources/x"}}},
		machoFile(root, "Broken.app/Contents/MacOS/Broken", h('4'), signers.StatusValid, apple("9YV9435DHD", "com.code42.broken", signers.StatusValid, signers.ChainTrusted)),
	}}
}

func TestDecideMac(t *testing.T) {
	opts := DecideOptions{Profile: code42(t), OS: "mac", Version: "10.4.1", Product: "crashplan", NoScanExclusions: true, Level: CriterionSigner, Now: testNow,
		InstallPaths: map[string][]string{"/tmp/mac": {"/Applications"}}}
	pol, err := Decide(macInstall(), opts)
	require.NoError(t, err)
	var got []string
	for _, r := range pol.Rules {
		got = append(got, strings.Join([]string{string(r.Criterion), r.Value, r.TeamID, r.SigningID, strings.Join(r.Files, ",")}, " "))
	}
	assert.Equal(t, []string{
		"hash " + h('4') + "   /Applications/Broken.app/Contents/MacOS/Broken",
		"hash " + h('3') + "   /Applications/Code42.app/Contents/Helpers/adhoc",
		"signer ZZZZZZZZZZ ZZZZZZZZZZ com.example.helper /Applications/Code42.app/Contents/Helpers/other",
		"signer 9YV9435DHD 9YV9435DHD  /Applications/Code42.app/Contents/MacOS/Code42",
	}, got)
	assert.Equal(t, "code42", pol.Era)
	assert.Contains(t, pol.Rules[0].Reason, "Broken.app: 1 sealed file(s) modified")
	assert.Equal(t, "ad-hoc signature: no signer identity to trust", pol.Rules[1].Reason)
	codes := warningCodes(pol)
	assert.Contains(t, codes, WarnUnexpectedSigner)
	assert.Contains(t, codes, WarnTampered)

	// The same install judged as 11.x: its Team ID 9YV9435DHD is not the CrashPlan era's.
	opts.Version = "11.0"
	pol, err = Decide(macInstall(), opts)
	require.NoError(t, err)
	for _, r := range pol.Rules {
		if r.TeamID == "9YV9435DHD" {
			assert.Equal(t, "com.code42.app", r.SigningID, "narrowed: not the era's expected signer")
		}
	}
}

func TestDecideUniversalMixedTeams(t *testing.T) {
	f := machoFile("/r", "bin/tool", h('5'), signers.StatusValid,
		apple("9YV9435DHD", "t", signers.StatusValid, signers.ChainTrusted),
		apple("OTHERTEAM1", "t", signers.StatusValid, signers.ChainTrusted))
	f.Format = hashing.FormatMachOUniversal
	pol, err := Decide(&Inventory{Files: []FileEvidence{f}}, DecideOptions{Profile: code42(t), OS: "mac", Version: "10.0", Product: "crashplan", NoScanExclusions: true, Level: CriterionSigner, Now: testNow})
	require.NoError(t, err)
	require.Len(t, pol.Rules, 1)
	assert.Equal(t, "slices signed by different signers (Team ID 9YV9435DHD, Team ID OTHERTEAM1)", pol.Rules[0].Reason)
}

func TestDecideWarnings(t *testing.T) {
	inv := &Inventory{Files: []FileEvidence{
		peFile("/r", "a.exe", h('a'), signers.StatusValid, authSig(soonCert, signers.StatusValid, signers.ChainTrusted, false)),
	}}
	opts := DecideOptions{Profile: code42(t), OS: "windows", Version: "10.0", Product: "crashplan", NoScanExclusions: true, Level: CriterionSigner, Now: testNow,
		Governance: GovernanceOptions{Owner: "secops", Justification: "CHG-1", Expires: "2026-06-30", Scope: "all endpoints"}}
	pol, err := Decide(inv, opts)
	require.NoError(t, err)
	require.Len(t, pol.Rules, 1)
	assert.Equal(t, "secops", pol.Rules[0].Owner)
	assert.Equal(t, Day(soonCert.NotAfter).Format(time.RFC3339), pol.Rules[0].Expires, "the earlier of the leaf's not_after day and the governance expiry")
	assert.Contains(t, warningCodes(pol), WarnSignerExpiring)

	prev := &Policy{SchemaVersion: 1, Era: "crashplan-legacy", AppVersion: "8.0", Rules: []Rule{{Criterion: CriterionSigner, Value: "oldthumb"}}}
	opts.Previous = prev
	pol, err = Decide(inv, opts)
	require.NoError(t, err)
	var msgs []string
	for _, w := range pol.Warnings {
		if w.Code == "signer-change" {
			msgs = append(msgs, w.Message)
		}
	}
	require.Len(t, msgs, 2)
	assert.Contains(t, msgs[0]+msgs[1], "era changed from crashplan-legacy (version 8.0) to code42 (version 10.0)")
	assert.Contains(t, msgs[0]+msgs[1], "removed [oldthumb], added ["+soonCert.ThumbprintSHA1+"]")
}

func TestDecideDeterministic(t *testing.T) {
	opts := winOpts(t, CriterionSigner)
	a, err := Decide(windowsInstall(), opts)
	require.NoError(t, err)
	inv := windowsInstall()
	rand.New(rand.NewSource(1)).Shuffle(len(inv.Files), func(i, j int) { inv.Files[i], inv.Files[j] = inv.Files[j], inv.Files[i] })
	b, err := Decide(inv, opts)
	require.NoError(t, err)
	ja, err := a.JSON()
	require.NoError(t, err)
	jb, err := b.JSON()
	require.NoError(t, err)
	assert.Equal(t, string(ja), string(jb))
	assert.NotContains(t, string(ja), `"generated"`)
	opts.Timestamp = testNow
	c, err := Decide(windowsInstall(), opts)
	require.NoError(t, err)
	assert.Equal(t, "2026-01-01T00:00:00Z", c.Generated)
}

func TestCheckPathRule(t *testing.T) {
	for _, tc := range []struct {
		os         profile.OS
		path, want string
	}{
		{"windows", `C:\`, "a drive root"},
		{"windows", `d:`, "a drive root"},
		{"windows", `\\server\share`, `a UNC path (\\host\share): a network or admin-share spelling can name a local drive; write the local drive path`},
		{"windows", `C:\Program Files`, "the whole of Program Files"},
		{"windows", `C:\Program Files (x86)\`, "the whole of Program Files"},
		{"windows", `C:\Users\*`, "a user-profile root"},
		{"windows", `C:\Users\<user>\AppData\Local`, "a user-profile AppData root"},
		{"windows", `C:\Windows\Temp\x`, "a temp folder"},
		{"windows", `C:\Users\*\AppData\Local\Temp\CrashPlan`, "a temp folder"},
		{"windows", `C:\Users\Public\stuff`, "a world-writable folder (C:\\Users\\Public)"},
		{"windows", `C:\ProgramData`, "ProgramData: any user may create folders in it (world-writable)"},
		{"windows", `C:\Program Files\CrashPlan\*`, "a bare wildcard (it trusts every file there)"},
		{"windows", `*`, "not an absolute path (no drive letter)"},
		{"windows", `C:\Program Files\CrashPlan\..\x`, ""},
		{"windows", `C:\Program Files\CrashPlan\..\..\Windows`, "the Windows folder (judged as c:\\windows)"},
		{"windows", `CrashPlan\cache`, "not an absolute path (no drive letter)"},
		{"windows", `C:\ProgramData\CrashPlan\cache`, ""},
		{"windows", `C:\Users\*\AppData\Local\CrashPlan\cache`, ""},
		{"mac", "/", "the file system root"},
		{"mac", "/Applications", "the whole of /Applications"},
		{"mac", "/Applications/", "the whole of /Applications"},
		{"mac", "/Volumes/Backup", "a volume root"},
		{"mac", "/Users/*", "a user-profile root"},
		{"mac", "/private/tmp/x", "a temp and world-writable folder (judged as /tmp/x)"},
		{"mac", "/Library/Caches/CrashPlan", ""},
		{"mac", "/Users/*/Library/Logs/CrashPlan", ""},
		{"linux", "/usr", "the whole of /usr"},
		{"linux", "/usr/local", "the whole of /usr/local"},
		{"linux", "/home/*", "a user-profile root"},
		{"linux", "/tmp", "a temp and world-writable folder"},
		{"linux", "/dev/shm/x", "a world-writable folder"},
		{"linux", "/mnt/data", "a volume root"},
		{"linux", "/usr/local/crashplan/*", "a bare wildcard (it trusts every file there)"},
		{"linux", "/usr/local/crashplan/cache", ""},
	} {
		assert.Equal(t, tc.want, CheckPathRule(tc.os, tc.path), "%s %s", tc.os, tc.path)
	}
}

// A Team ID is a name anyone can put in a self-made certificate: pinning it must not make an
// untrusted Apple signature a signer rule. A thumbprint pin (one certificate) does.
func TestDecideTeamIDPinNeedsTrustedChain(t *testing.T) {
	forged := apple("9YV9435DHD", "com.code42.app", signers.StatusValid, signers.ChainUnknownRoot)
	f := machoFile("/r", "Code42.app/Contents/MacOS/Code42", h('6'), signers.StatusValid, forged)
	opts := DecideOptions{Profile: code42(t), OS: "mac", Version: "10.0", Product: "crashplan", NoScanExclusions: true, Level: CriterionSigner, Now: testNow,
		PinSigners: []string{"9YV9435DHD"}}
	pol, err := Decide(&Inventory{Files: []FileEvidence{f}}, opts)
	require.NoError(t, err)
	require.Len(t, pol.Rules, 1)
	assert.Equal(t, CriterionHash, pol.Rules[0].Criterion)
	assert.Contains(t, pol.Rules[0].Reason, "signer chain unknown-root")
	assert.Contains(t, pol.Rules[0].Reason, "and the leaf certificate (SHA-1 thumbprint "+forged.Signer.ThumbprintSHA1+") is not pinned")

	// Pinning that exact certificate is an explicit decision about one key: allowed.
	opts.PinSigners = []string{forged.Signer.ThumbprintSHA256}
	pol, err = Decide(&Inventory{Files: []FileEvidence{f}}, opts)
	require.NoError(t, err)
	require.Len(t, pol.Rules, 1)
	assert.Equal(t, CriterionSigner, pol.Rules[0].Criterion)

	// With a trusted chain the Team ID pin applies (it widens the rule to the whole team).
	trusted := apple("ZZZZZZZZZZ", "com.example.helper", signers.StatusValid, signers.ChainTrusted)
	g := machoFile("/r", "Code42.app/Contents/Helpers/other", h('7'), signers.StatusValid, trusted)
	opts.PinSigners = []string{"zzzzzzzzzz"}
	pol, err = Decide(&Inventory{Files: []FileEvidence{g}}, opts)
	require.NoError(t, err)
	require.Len(t, pol.Rules, 1)
	assert.Equal(t, CriterionSigner, pol.Rules[0].Criterion)
	assert.Empty(t, pol.Rules[0].SigningID, "a pinned team is not narrowed")
}

// No path rule names a file whose path a policy or vendor pattern would read as a pattern, or
// that holds a control character: such files get hash rules with the reason, whether the
// character is in the file name or in a folder name, on every OS. The policy's own '*' in an
// install folder (a per-user install) stays a path rule.
func TestDecidePatternNamesGetHashRules(t *testing.T) {
	names := []string{"*.dll", "a?.exe", "[x].exe", "a]b.exe", "{a,b}.exe", "100%.exe", "%TEMP%.exe", `back\slash.exe`,
		"esc\x1b[2J.exe", "cr\r.exe", "lf\n.exe", "del\x7f.exe", "c1\u0085.exe", "csi\u009b.exe", "bad\xff.exe", "**"}
	for _, osName := range []profile.OS{"windows", "mac", "linux"} {
		for _, n := range names {
			for _, rel := range []string{n, n + "/tool.exe", "dir/" + n + "/sub/tool.exe"} {
				inv := &Inventory{SchemaVersion: 1, Files: []FileEvidence{peFile("/tmp/inst", rel, h('a'), signers.StatusUnsigned)}}
				inv.Files[0].Path = rel // peFile derives the original file name only
				opts := DecideOptions{Profile: code42(t), OS: osName, Version: "11.2.1", Product: "crashplan", Level: CriterionPath, Now: testNow, NoScanExclusions: true,
					InstallPaths: map[string][]string{"/tmp/inst": {"/opt/app"}}}
				pol, err := Decide(inv, opts)
				require.NoError(t, err, "%s %q", osName, rel)
				require.Len(t, pol.Rules, 1, "%s %q", osName, rel)
				r := pol.Rules[0]
				assert.Equal(t, CriterionHash, r.Criterion, "%s %q", osName, rel)
				assert.Contains(t, r.Reason, "a path rule could not name exactly this file", "%s %q", osName, rel)
			}
		}
	}
	// Ordinary names, and the policy's own '*' of a per-user install folder: path rules.
	for _, rel := range []string{"tool.exe", "dir (x86)/tool-1.0_b+c.exe", "ünïcødé 工具 ‘q’.exe", "a,b;c=d.exe"} {
		inv := &Inventory{SchemaVersion: 1, Files: []FileEvidence{peFile("/tmp/inst", rel, h('a'), signers.StatusUnsigned)}}
		inv.Files[0].Path = rel
		opts := winOpts(t, CriterionPath)
		opts.NoScanExclusions = true
		opts.InstallPaths = map[string][]string{"/tmp/inst": {`C:\Users\<user>\AppData\Local\CrashPlan`}}
		pol, err := Decide(inv, opts)
		require.NoError(t, err)
		require.Len(t, pol.Rules, 1)
		assert.Equal(t, CriterionPath, pol.Rules[0].Criterion, rel)
		assert.Equal(t, `C:\Users\*\AppData\Local\CrashPlan\`+strings.ReplaceAll(rel, "/", `\`), pol.Rules[0].Value)
	}
	// Without an install path (none given, and the generic profile has no install folder to
	// default to) the file keeps its relative name, which is never a path rule.
	gen, err := profile.BuiltIn("generic")
	require.NoError(t, err)
	inv := &Inventory{SchemaVersion: 1, Files: []FileEvidence{peFile("/tmp/in*st", "tool.exe", h('a'), signers.StatusUnsigned)}}
	pol, err := Decide(inv, DecideOptions{Profile: gen, OS: "linux", Level: CriterionPath, Now: testNow, NoScanExclusions: true, InstallPaths: map[string][]string{}})
	require.NoError(t, err)
	assert.Equal(t, CriterionHash, pol.Rules[0].Criterion)

	// A narrowed signer at level path whose path cannot be written stays the narrowed signer
	// rule (exporters fall back to its files' hashes); with a plain name it becomes the path.
	for _, tc := range []struct{ rel, crit string }{{"lib/a?.dll", "signer"}, {"lib/a.dll", "path"}} {
		inv := &Inventory{SchemaVersion: 1, Files: []FileEvidence{peFile("/tmp/inst", tc.rel, h('c'), signers.StatusValid, authSig(otherCert, signers.StatusValid, signers.ChainTrusted, false))}}
		opts := winOpts(t, CriterionPath)
		opts.NoScanExclusions = true
		pol, err := Decide(inv, opts)
		require.NoError(t, err)
		require.Len(t, pol.Rules, 1)
		assert.Equal(t, tc.crit, string(pol.Rules[0].Criterion), tc.rel)
		assert.Equal(t, h('c'), pol.Rules[0].FileDigests[0].SHA256)
	}
}

// An executable whose exact endpoint path the guardrails refuse (a name shaped like an 8.3
// short name, a ':' stream, a trailing dot, an install folder under a temp folder, a DOS device
// name) gets a hash rule with the reason at level path, instead of failing the whole run.
func TestDecideGuardrailRefusedPathsGetHashRules(t *testing.T) {
	cases := []struct {
		os        profile.OS
		base, rel string
	}{
		{"windows", `C:\Program Files\App`, "SETUP~1.EXE"},
		{"windows", `C:\Program Files\App`, "tool.exe:stream"},
		{"windows", `C:\Program Files\App`, "sub/CON"},
		{"windows", `C:\Windows\Temp\App`, "tool.exe"},
		{"windows", `C:\Users\Public\App`, "tool.exe"},
		{"linux", "/tmp/app", "tool"},
		{"mac", "/private/var/folders/xy/App.app/Contents/MacOS", "App"},
		{"mac", "/Users/Shared/App", "tool"},
	}
	for _, tc := range cases {
		inv := &Inventory{SchemaVersion: 1, Files: []FileEvidence{peFile("/srv/inst", tc.rel, h('a'), signers.StatusUnsigned)}}
		inv.Files[0].Path = tc.rel
		opts := DecideOptions{Profile: code42(t), OS: tc.os, Version: "11.2.1", Product: "crashplan", Level: CriterionPath, Now: testNow, NoScanExclusions: true,
			InstallPaths: map[string][]string{"/srv/inst": {tc.base}}}
		pol, err := Decide(inv, opts)
		require.NoError(t, err, "%s %s %s", tc.os, tc.base, tc.rel)
		require.Len(t, pol.Rules, 1)
		r := pol.Rules[0]
		assert.Equal(t, CriterionHash, r.Criterion, "%s %s %s", tc.os, tc.base, tc.rel)
		assert.Contains(t, r.Reason, "the guardrails refuse a path rule for", "%s %s %s", tc.os, tc.base, tc.rel)
	}
}

// The sources' advice reaches the policy: both sides of the proactive-exceptions question with
// their seeds, user detection, the backup selection (products with backup), signer renewal
// (with signer rules), and the self-updating app in the hash-upgrade warning.
func TestDecideAdvice(t *testing.T) {
	advice := func(pol *Policy) map[string]string {
		out := map[string]string{}
		for _, w := range pol.Warnings {
			if w.Code == "advice" {
				topic, msg, _ := strings.Cut(w.Message, ": ")
				out[topic] = msg
			}
		}
		return out
	}
	for _, tc := range []struct {
		product string
		level   Criterion
		topics  []string
	}{
		{"crashplan", CriterionHash, []string{"backup-selection", "exceptions", "user-detection"}},
		{"crashplan", CriterionSigner, []string{"backup-selection", "exceptions", "signer", "user-detection"}},
		{"incydr-basic", CriterionHash, []string{"backup-selection", "exceptions", "user-detection"}},
		{"incydr-horizon", CriterionHash, []string{"exceptions", "user-detection"}},
		{"incydr-gov-f2", CriterionSigner, []string{"exceptions", "signer", "user-detection"}},
	} {
		opts := winOpts(t, tc.level)
		opts.Product = tc.product
		opts.PinSigners = []string{vendorCert.ThumbprintSHA256}
		pol, err := Decide(windowsInstall(), opts)
		require.NoError(t, err, tc.product)
		got := advice(pol)
		assert.ElementsMatch(t, tc.topics, slices.Collect(maps.Keys(got)), "%s %s", tc.product, tc.level)
		ex := got["exceptions"]
		assert.Contains(t, ex, `"Do not proactively create exclusions for the Code42 app." (000_c8ea74c03d1e87fa.txt: Best practices for using CrashPlan with EDR software)`, "the seed file with its title")
		assert.Contains(t, ex, `"Most EDR tools allow you to create proactive exception policies to suppress alerts for specific behaviors or trusted applications." (001_8909b713b88efa39.txt: Best practices for using Code42 with antivirus or EDR software)`)
		assert.Contains(t, got["user-detection"], "do not require setting global exceptions")
		if tc.level == CriterionSigner {
			assert.Contains(t, got["signer"], "changes each time a certificate is renewed")
		}
		for _, w := range pol.Warnings {
			if w.Code == "hash-upgrade" {
				assert.Contains(t, w.Message, "they break at the next upgrade")
				assert.Contains(t, w.Message, `"The Code42 app requires full disk access, reads many files, and auto-updates itself."`)
				assert.Contains(t, w.Message, "since the hash changes with each new Code42 app patch or update")
			}
		}
		assert.Contains(t, warningCodes(pol), WarnHashUpgrade, "the tampered file keeps a hash rule at every level")
	}
	// A profile without advice: no advice warning, the plain hash-upgrade message.
	prof, err := profile.Parse([]byte(`{"schema_version":1,"name":"x","title":"X","sources":[],"paths":[]}`))
	require.NoError(t, err)
	pol, err := Decide(windowsInstall(), DecideOptions{Profile: prof, OS: "windows", Now: testNow})
	require.NoError(t, err)
	assert.Empty(t, advice(pol))
	for _, w := range pol.Warnings {
		if w.Code == "hash-upgrade" {
			assert.True(t, strings.HasSuffix(w.Message, "(hashes change with every patch)"), w.Message)
		}
	}
}

// assertOptionField asserts err is an *OptionError naming field, and that its text names no
// CLI flag (the CLI maps fields to flags).
func assertOptionField(t *testing.T, err error, field string) {
	t.Helper()
	var oe *OptionError
	if assert.ErrorAs(t, err, &oe) {
		assert.Equal(t, field, oe.Field)
		assert.NotContains(t, err.Error(), "--")
	}
}

// Options are validated where they are used, each fault an *OptionError naming the field:
// a misspelt install kind would select no row of the path table and lose the scan
// exclusions without a word; a governance date in the past would expire every rule at once.
func TestDecideValidatesOptions(t *testing.T) {
	cases := []struct {
		name  string
		opts  DecideOptions
		field string
	}{
		{"install case", DecideOptions{Install: "All-Users"}, "Install"},
		{"install unknown", DecideOptions{Install: "machine"}, "Install"},
		{"os", DecideOptions{OS: "Windows"}, "OS"},
		{"level", DecideOptions{Level: "folder"}, "Level"},
		{"version", DecideOptions{Version: "eleven"}, "Version"},
		{"expires past", DecideOptions{Governance: GovernanceOptions{Expires: "2020-01-01"}}, "Governance.Expires"},
		{"expires garbage", DecideOptions{Governance: GovernanceOptions{Expires: "soon"}}, "Governance.Expires"},
		{"max age", DecideOptions{Governance: GovernanceOptions{MaxAge: "forever"}}, "Governance.MaxAge"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := DecideOptions{Profile: code42(t), OS: "windows", Version: "11.1.0", Install: "all-users", Now: testNow}
			if tc.opts.Install != "" {
				o.Install = tc.opts.Install
			}
			if tc.opts.OS != "" {
				o.OS = tc.opts.OS
			}
			if tc.opts.Level != "" {
				o.Level = tc.opts.Level
			}
			if tc.opts.Version != "" {
				o.Version = tc.opts.Version
			}
			o.Governance = tc.opts.Governance
			pol, err := Decide(&Inventory{}, o)
			assert.Nil(t, pol)
			assertOptionField(t, err, tc.field)
		})
	}
	// The same options, valid, decide.
	pol, err := Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "windows", Version: "11.1.0", Install: "all-users", Now: testNow})
	require.NoError(t, err)
	assert.NotEmpty(t, pol.Rules, "the scan exclusions of the path table")
}
