// Package testpolicy builds the hand-made policies the exporter tests share, and the golden
// file helper. The certificate is made with a fixed Ed25519 key, whose signatures are
// deterministic, so the policies and every exported file are the same on every run.
package testpolicy

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/output"
	"github.com/edrpolicy/edrpolicy/signers"
)

// Tricky are file names that must survive every format: quotes (ASCII and typographic),
// commas, a newline, unicode, and leading characters a spreadsheet runs as formulas.
var Tricky = []string{
	`=HYPERLINK("evil","click")`,
	`O'Brien's "tool", v2.exe`,
	"line\nbreak.exe",
	"ünïcødé 工具 ‘quoted’.exe",
	"+plus-@at.exe",
	"$(calc) `tick` $env:X.exe",
}

// Leaf returns a deterministic leaf certificate's model and DER.
func Leaf(t testing.TB, cn, org string) (*signers.Certificate, []byte) {
	t.Helper()
	seed := sha256.Sum256([]byte(cn))
	key := ed25519.NewKeyFromSeed(seed[:])
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x0a1b2c3d4e),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{org}, Country: []string{"US"}},
		Issuer:       pkix.Name{CommonName: "Example Code Signing CA"},
		NotBefore:    time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(bytes.NewReader(make([]byte, 1024)), tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("leaf certificate: %v", err)
	}
	s1, s256 := sha1.Sum(der), sha256.Sum256(der)
	return &signers.Certificate{
		Subject: "CN=" + cn + ",O=" + org + ",C=US", CommonName: cn, Organization: org,
		Issuer: "CN=" + cn + ",O=" + org + ",C=US", Serial: "0a1b2c3d4e",
		ThumbprintSHA1: hex.EncodeToString(s1[:]), ThumbprintSHA256: hex.EncodeToString(s256[:]),
		NotBefore: tmpl.NotBefore, NotAfter: tmpl.NotAfter, Raw: der,
	}, der
}

// Sum returns a fake, deterministic SHA-256 (64 hex) for a label.
func Sum(label string) string {
	s := sha256.Sum256([]byte(label))
	return hex.EncodeToString(s[:])
}

// Digests returns the extra digests (SHA-1, MD5-length) for the given SHA-256 values.
func Digests(sums ...string) map[string]hashing.Digests {
	out := map[string]hashing.Digests{}
	for _, s := range sums {
		h := sha1.Sum([]byte(s))
		out[s] = hashing.Digests{SHA256: s, SHA1: hex.EncodeToString(h[:]), MD5: hex.EncodeToString(h[:16])}
	}
	return out
}

// FileDigests returns the file_digests of the given endpoint paths: each file's SHA-256 is
// Sum of its base name (so a path and the hash rule of the same base name agree), its SHA-1
// and MD5 those Digests gives.
func FileDigests(paths ...string) []edrpolicy.FileDigest {
	out := make([]edrpolicy.FileDigest, len(paths))
	for i, p := range paths {
		sum := Sum(core.BaseName(p))
		d := Digests(sum)[sum]
		out[i] = edrpolicy.FileDigest{Path: p, SHA256: sum, SHA1: d.SHA1, MD5: d.MD5}
	}
	return out
}

// Windows is a Windows policy with a hash rule, an Authenticode signer rule, a narrowed
// signer rule and path rules (file, folder, subfolders).
func Windows(t testing.TB) *edrpolicy.Policy {
	cert, der := Leaf(t, "Code42 Software, Inc.", "Code42 Software, Inc.")
	gov := edrpolicy.Governance{Owner: "secops@example.com", Justification: "CHG-1234", Scope: "all endpoints"}
	return &edrpolicy.Policy{
		SchemaVersion: edrpolicy.SchemaVersion, Profile: "code42", Product: "crashplan", OS: "windows", AppVersion: "11.4.1", Level: edrpolicy.CriterionSigner,
		Rules: []edrpolicy.Rule{
			{Criterion: edrpolicy.CriterionHash, Value: Sum("CrashPlanService.exe"), Platform: "windows", Role: "executable",
				Files: []string{`C:\Program Files\CrashPlan\CrashPlanService.exe`}, Reason: "hash level: the exact SHA-256 of this build", Source: "inspected", Governance: gov},
			{Criterion: edrpolicy.CriterionSigner, Value: cert.ThumbprintSHA1, Platform: "windows", Role: "executable",
				Files:       []string{`C:\Program Files\CrashPlan\CrashPlanDesktop.exe`, `C:\Program Files\CrashPlan\CrashPlanService.exe`},
				FileDigests: FileDigests(`C:\Program Files\CrashPlan\CrashPlanDesktop.exe`, `C:\Program Files\CrashPlan\CrashPlanService.exe`),
				Reason:      "valid signature, chain trusted; one rule per signer survives upgrades until the certificate is renewed", Source: "inspected",
				Signer: cert, Certificate: der, Governance: edrpolicy.Governance{Owner: gov.Owner, Justification: gov.Justification, Scope: gov.Scope, Expires: "2027-01-01T00:00:00Z"}},
			{Criterion: edrpolicy.CriterionSigner, Value: cert.ThumbprintSHA1, Platform: "windows", Role: "executable", FileName: "helper.exe",
				Files: []string{`C:\Program Files\CrashPlan\helper.exe`}, FileDigests: FileDigests(`C:\Program Files\CrashPlan\helper.exe`), Reason: "valid signature, chain trusted; the signer is neither pinned nor the profile's expected signer, so the rule is narrowed to this file", Source: "inspected", Signer: cert, Certificate: der},
			{Criterion: edrpolicy.CriterionPath, Value: `C:\Program Files\CrashPlan\CrashPlanService.exe`, Platform: "windows", Role: "executable", Match: edrpolicy.MatchFile,
				Files: []string{`C:\Program Files\CrashPlan\CrashPlanService.exe`}, FileDigests: FileDigests(`C:\Program Files\CrashPlan\CrashPlanService.exe`), Reason: "no signer rule possible (unsigned); the path level accepts an exact file path", Source: "inspected"},
			{Criterion: edrpolicy.CriterionPath, Value: `C:\ProgramData\CrashPlan\cache`, Platform: "windows", Role: "cache", Match: edrpolicy.MatchSubfolders,
				Files: []string{`C:\ProgramData\CrashPlan\cache`}, Reason: "scan exclusion the source recommends: cache files are benign records of the app's own operations", Source: "code42 seed article"},
			{Criterion: edrpolicy.CriterionPath, Value: `C:\Users\*\AppData\Local\CrashPlan\log`, Platform: "windows", Role: "logs", Match: edrpolicy.MatchFolder,
				Files: []string{`C:\Users\*\AppData\Local\CrashPlan\log`}, Reason: "log folder, asked for (logs included)", Source: "code42 seed article"},
		},
		Warnings: []edrpolicy.Warning{},
	}
}

// Mac is a macOS policy with a hash rule, an Apple Team ID signer rule and path rules.
func Mac(t testing.TB) *edrpolicy.Policy {
	cert, der := Leaf(t, "Developer ID Application: Code42 Software, Inc (9YV9435DHD)", "Code42 Software, Inc")
	return &edrpolicy.Policy{
		SchemaVersion: edrpolicy.SchemaVersion, Profile: "code42", Product: "crashplan", OS: "mac", AppVersion: "11.4.1", Level: edrpolicy.CriterionSigner,
		Rules: []edrpolicy.Rule{
			{Criterion: edrpolicy.CriterionHash, Value: Sum("CrashPlanService"), Platform: "mac", Role: "executable",
				Files: []string{"/Applications/CrashPlan.app/Contents/Helpers/CrashPlanService"}, Reason: "ad-hoc signed: no signer identity", Source: "inspected"},
			{Criterion: edrpolicy.CriterionSigner, Value: "9YV9435DHD", TeamID: "9YV9435DHD", Platform: "mac", Role: "executable",
				Files: []string{"/Applications/CrashPlan.app/Contents/MacOS/CrashPlan"}, FileDigests: FileDigests("/Applications/CrashPlan.app/Contents/MacOS/CrashPlan"), Reason: "valid signature, chain trusted; one rule per signer survives upgrades until the certificate is renewed", Source: "inspected", Signer: cert, Certificate: der},
			{Criterion: edrpolicy.CriterionPath, Value: "/Library/Caches/CrashPlan", Platform: "mac", Role: "cache", Match: edrpolicy.MatchSubfolders,
				Files: []string{"/Library/Caches/CrashPlan"}, Reason: "scan exclusion the source recommends", Source: "code42 seed article"},
			{Criterion: edrpolicy.CriterionPath, Value: "/Users/*/Library/Logs/CrashPlan", Platform: "mac", Role: "logs", Match: edrpolicy.MatchSubfolders,
				Files: []string{"/Users/*/Library/Logs/CrashPlan"}, Reason: "log folder, asked for (logs included)", Source: "code42 seed article"},
			{Criterion: edrpolicy.CriterionPath, Value: "/Applications/CrashPlan.app/Contents/MacOS/CrashPlan", Platform: "mac", Role: "executable", Match: edrpolicy.MatchFile,
				Files: []string{"/Applications/CrashPlan.app/Contents/MacOS/CrashPlan"}, FileDigests: FileDigests("/Applications/CrashPlan.app/Contents/MacOS/CrashPlan"), Reason: "the path level accepts an exact file path", Source: "inspected"},
		},
		Warnings: []edrpolicy.Warning{},
	}
}

// Linux is a Linux policy with hash rules and path rules, one of them with a literal '?'.
func Linux() *edrpolicy.Policy {
	return &edrpolicy.Policy{
		SchemaVersion: edrpolicy.SchemaVersion, Profile: "code42", Product: "crashplan", OS: "linux", AppVersion: "11.4.1", Level: edrpolicy.CriterionPath,
		Rules: []edrpolicy.Rule{
			{Criterion: edrpolicy.CriterionHash, Value: Sum("CrashPlanService-linux"), Platform: "linux", Role: "executable",
				Files: []string{"/usr/local/crashplan/bin/CrashPlanService"}, Reason: "ELF: never signed", Source: "inspected"},
			{Criterion: edrpolicy.CriterionPath, Value: "/usr/local/crashplan/cache", Platform: "linux", Role: "cache", Match: edrpolicy.MatchSubfolders,
				Files: []string{"/usr/local/crashplan/cache"}, Reason: "scan exclusion the source recommends", Source: "code42 seed article"},
			{Criterion: edrpolicy.CriterionPath, Value: "/usr/local/crashplan/bin/CrashPlanService", Platform: "linux", Role: "executable", Match: edrpolicy.MatchFile,
				Files: []string{"/usr/local/crashplan/bin/CrashPlanService"}, FileDigests: FileDigests("/usr/local/crashplan/bin/CrashPlanService"), Reason: "the path level accepts an exact file path", Source: "inspected"},
			{Criterion: edrpolicy.CriterionPath, Value: "/opt/what?.bin", Platform: "linux", Role: "executable", Match: edrpolicy.MatchFile,
				Files: []string{"/opt/what?.bin"}, FileDigests: FileDigests("/opt/what?.bin"), Reason: "the path level accepts an exact file path", Source: "inspected"},
		},
		Warnings: []edrpolicy.Warning{},
	}
}

// TrickyNames is a Windows policy whose hash and path rules cover the Tricky file names,
// plus the same names as Linux path rules.
func TrickyNames() *edrpolicy.Policy {
	p := &edrpolicy.Policy{SchemaVersion: edrpolicy.SchemaVersion, Profile: "code42", Product: "=cmd|' /C calc'!A0", OS: "windows", AppVersion: "1.0", Warnings: []edrpolicy.Warning{}}
	for _, n := range Tricky {
		p.Rules = append(p.Rules, edrpolicy.Rule{Criterion: edrpolicy.CriterionHash, Value: Sum(n), Platform: "windows", Role: "executable",
			Files: []string{`C:\Apps\` + n}, Reason: "exact build", Source: "inspected"})
	}
	for _, n := range Tricky {
		p.Rules = append(p.Rules, edrpolicy.Rule{Criterion: edrpolicy.CriterionPath, Value: `C:\Apps\` + n, Platform: "windows", Role: "executable", Match: edrpolicy.MatchFile,
			Files: []string{`C:\Apps\` + n}, FileDigests: FileDigests(`C:\Apps\` + n), Reason: "exact path", Source: "inspected"})
		p.Rules = append(p.Rules, edrpolicy.Rule{Criterion: edrpolicy.CriterionPath, Value: "/opt/apps/" + n, Platform: "linux", Role: "executable", Match: edrpolicy.MatchFile,
			Files: []string{"/opt/apps/" + n}, FileDigests: FileDigests("/opt/apps/" + n), Reason: "exact path", Source: "inspected"})
	}
	return p
}

// Hashes is a Windows policy of n hash rules.
func Hashes(n int) *edrpolicy.Policy {
	p := &edrpolicy.Policy{SchemaVersion: edrpolicy.SchemaVersion, Profile: "bulk", OS: "windows", AppVersion: "1.0", Warnings: []edrpolicy.Warning{}}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf(`C:\Bulk\file%04d.dll`, i)
		p.Rules = append(p.Rules, edrpolicy.Rule{Criterion: edrpolicy.CriterionHash, Value: Sum(name), Platform: "windows", Role: "executable", Files: []string{name}, Reason: "exact build", Source: "inspected"})
	}
	return p
}

// Golden compares each file with testdata/<dir>/<name>, or rewrites them when update is
// set (go test -update). It also fails when the golden directory holds a file the export
// did not write.
func Golden(t *testing.T, dir string, files []output.File, update bool) {
	t.Helper()
	dir = filepath.Join("testdata", dir)
	if update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{}
	for _, f := range files {
		want[f.Name] = true
		p := filepath.Join(dir, f.Name)
		if update {
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v (run go test -update)", p, err)
			continue
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s differs from the export (run go test -update and review the diff):\n--- want\n%s\n--- got\n%s", p, got, f.Data)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !want[e.Name()] {
			t.Errorf("%s: golden file the export no longer writes", filepath.Join(dir, e.Name()))
		}
	}
}

// Exporter is what Export needs of a vendor exporter.
type Exporter interface {
	Export(*core.Request) (*core.VendorResult, error)
}

// Collect admits p with o (core.Admit, as every route to a vendor file does) and runs e.
func Collect(e Exporter, p *edrpolicy.Policy, o core.Options) (*core.VendorResult, error) {
	r, err := core.Admit(p, o)
	if err != nil {
		return nil, err
	}
	res, err := e.Export(r)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(r.Warnings(), res.Warnings...)
	return res, nil
}

// Run is Collect for the files and warnings only.
func Run(e Exporter, p *edrpolicy.Policy, o core.Options) ([]output.File, []edrpolicy.Warning, error) {
	res, err := Collect(e, p, o)
	if err != nil {
		return nil, nil, err
	}
	return res.Files, res.Warnings, nil
}

// Export runs e over p twice, fails unless both runs give the same files byte for byte, and
// returns the files by name with the warnings.
func Export(t testing.TB, e Exporter, p *edrpolicy.Policy, o core.Options) (map[string][]byte, []edrpolicy.Warning) {
	t.Helper()
	files, warns, err := Run(e, p, o)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	again, _, err := Run(e, p, o)
	if err != nil {
		t.Fatalf("export again: %v", err)
	}
	if len(files) != len(again) {
		t.Fatalf("same policy, %d files then %d", len(files), len(again))
	}
	m := map[string][]byte{}
	for i, f := range files {
		if f.Name != again[i].Name || !bytes.Equal(f.Data, again[i].Data) {
			t.Fatalf("same policy, different bytes in %s", f.Name)
		}
		m[f.Name] = f.Data
	}
	return m, warns
}
