package exporters_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
	"github.com/edrpolicy/edrpolicy/output"
)

// FuzzReadSet: whatever MANIFEST.sha256 says, ReadSet reads only plain files of the folder
// (a line naming a path outside it is a problem, never a read), and a file it calls verified
// has the SHA-256 the manifest lists.
func FuzzReadSet(f *testing.F) {
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	body := []byte(`[{"filter":{"tenant":true},"data":{"type":"white_hash","osType":"windows","value":"` + strings.Repeat("a", 40) + `"}}]`)
	f.Add([]byte(sum(body)+"  sentinelone-exclusions.json\n"), body)
	f.Add([]byte(sum(body)+"  ../outside.json\n"+sum(body)+" */etc/passwd\n"), body)
	f.Add([]byte(strings.Repeat("0", 64)+"  sentinelone-exclusions.json\r\n"+strings.Repeat("0", 64)+"  sentinelone-exclusions.json\n"), body)
	f.Fuzz(func(t *testing.T, manifest, content []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "out")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{filepath.Join(parent, "outside.json"), filepath.Join(dir, "sentinelone-exclusions.json"), filepath.Join(dir, output.ManifestName)} {
			data := content
			if strings.HasSuffix(n, output.ManifestName) {
				data = manifest
			}
			if err := os.WriteFile(n, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s, err := exporters.ReadSet(exporters.Default(), dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, sf := range s.Files {
			if strings.ContainsAny(sf.Name, `/\`) || sf.Name == ".." || sf.Name == "." {
				t.Fatalf("read %q, which is not a plain file of the folder", sf.Name)
			}
			if sf.Verified && !strings.Contains(string(manifest), sum(content)+" ") {
				t.Fatalf("%s verified, but the manifest does not list its SHA-256", sf.Name)
			}
		}
	})
}

// FuzzExportReadBack: for a file name (any text without the characters issue 12 items 2 and 7
// deal with: wildcards, %...%, control characters), every vendor file the exporters write for
// a hash, path and signer rule over it parses back; each entry carries the rule's own digest,
// certificate or path; each path entry allows the rule's path and not a sibling; a vendor
// with no path entry said why in an export-skipped warning.
func FuzzExportReadBack(f *testing.F) {
	for _, n := range tp.Tricky {
		f.Add(n, uint8(0))
	}
	f.Add("CrashPlanService.exe", uint8(1))
	f.Add("Program Files (x86)", uint8(5))
	f.Add("ü ‘x’ $(y) `z`.dll", uint8(7))
	f.Fuzz(func(t *testing.T, name string, sel uint8) {
		if !plainName(name) {
			return
		}
		p, probe, sibling := fuzzPolicy(t, name, sel)
		sum := p.Rules[0].Value
		files, warns, err := exporters.Export(tenantRegistry(t), p, []string{"crowdstrike", "sentinelone", "defender"},
			exporters.Options{Digests: tp.Digests(sum)})
		var refused *edrpolicy.GuardrailError
		if errors.As(err, &refused) {
			return // a path the guardrails refuse: nothing is written
		}
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		pathEntries := map[string]int{}
		for _, file := range files {
			if exporters.Default().Owner(file.Name) == "" {
				continue // a note or the coverage report, not a vendor file
			}
			v, es, err := exporters.ParseFile(exporters.Default(), file.Name, file.Data)
			if err != nil {
				t.Fatalf("%s does not parse back: %v", file.Name, err)
			}
			rd, _ := exporters.Default().Reader(v)
			for _, e := range es {
				checkEntry(t, rd, e, p, probe, sibling)
				if e.Kind == exporters.EntryPath && e.Type != "ExclusionProcess" && e.Type != "excludedFileName" {
					pathEntries[v]++
				}
			}
		}
		for _, v := range []string{"crowdstrike", "sentinelone", "defender"} {
			if pathEntries[v] == 0 && !skipped(warns, v, "rule 2") {
				t.Fatalf("%s: no path entry for the path rule %q and no export-skipped warning", v, p.Rules[1].Value)
			}
		}
	})
}

// plainName keeps the names the property is about (see FuzzExportReadBack).
func plainName(n string) bool {
	if n == "" || n == "." || n == ".." || len(n) > 200 || !utf8.ValidString(n) || strings.ContainsAny(n, `/\*?[]{}%`) {
		return false
	}
	for _, c := range n {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029 || c == utf8.RuneError {
			return false
		}
	}
	return strings.TrimSpace(n) == n
}

// fuzzPolicy is a policy over one file name: a hash rule, a path rule (file, folder or
// subfolders by sel) and, on Windows, a signer rule; with the path rule's probe path and a
// sibling path it must not cover.
func fuzzPolicy(t *testing.T, name string, sel uint8) (*edrpolicy.Policy, string, string) {
	osName := profile.KnownOSes[int(sel)%len(profile.KnownOSes)]
	match := []edrpolicy.Match{edrpolicy.MatchFile, edrpolicy.MatchFolder, edrpolicy.MatchSubfolders}[int(sel/3)%3]
	role := profile.RoleCache
	if match == edrpolicy.MatchFile {
		role = profile.RoleExecutable
	}
	base, sep := "/opt/apps/", "/"
	if osName == profile.OSWindows {
		base, sep = `C:\Apps\`, `\`
	}
	value := base + name
	probe, sibling := value, value+"-sibling"
	if match != edrpolicy.MatchFile {
		probe, sibling = value+sep+"f.dat", value+"-sibling"+sep+"f.dat"
	}
	p := &edrpolicy.Policy{SchemaVersion: edrpolicy.SchemaVersion, Profile: "fuzz", OS: osName, AppVersion: "1.0", Level: edrpolicy.CriterionPath, Warnings: []edrpolicy.Warning{},
		Rules: []edrpolicy.Rule{
			{Criterion: edrpolicy.CriterionHash, Value: tp.Sum(name), Platform: osName, Role: "executable", Files: []string{value}, Reason: "r", Source: "inspected"},
			{Criterion: edrpolicy.CriterionPath, Value: value, Platform: osName, Role: role, Match: match, Files: []string{value}, Reason: "r", Source: "inspected"},
		}}
	if osName == "windows" {
		cert, der := tp.Leaf(t, "Fuzz Signer "+name, "Fuzz")
		p.Rules = append(p.Rules, edrpolicy.Rule{Criterion: edrpolicy.CriterionSigner, Value: cert.ThumbprintSHA1, Platform: osName, Role: "executable",
			Files: []string{value}, Reason: "r", Source: "inspected", Signer: cert, Certificate: der})
	}
	return p, probe, sibling
}

// checkEntry asserts that a parsed entry carries one of the policy's own values and, for a
// path entry, covers the rule's probe and not its sibling.
func checkEntry(t *testing.T, rd exporters.Reader, e exporters.Entry, p *edrpolicy.Policy, probe, sibling string) {
	t.Helper()
	h := p.Rules[0]
	d := tp.Digests(h.Value)[h.Value]
	switch e.Kind {
	case exporters.EntryHash:
		if e.Value != h.Value && e.Value != d.SHA1 && e.Value != d.MD5 {
			t.Fatalf("hash entry %+v is not the rule's digest", e)
		}
	case exporters.EntryCertificate:
		s := p.Rules[len(p.Rules)-1].Signer
		if s == nil || (e.Value != s.ThumbprintSHA1 && e.Value != s.CommonName) {
			t.Fatalf("certificate entry %+v is not the rule's signer", e)
		}
	case exporters.EntryPath:
		if e.Type == "ExclusionProcess" || e.Type == "excludedFileName" {
			return
		}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		plat := p.OS
		if !rd.Allows(e, exporters.Subject{Platform: plat, Path: probe}, now) {
			t.Fatalf("path entry %+v does not cover %q, the path it was written for", e, probe)
		}
		if rd.Allows(e, exporters.Subject{Platform: plat, Path: sibling}, now) {
			t.Fatalf("path entry %+v covers %q too: broader than its rule", e, sibling)
		}
	}
}

func skipped(warns []edrpolicy.Warning, vendor, rule string) bool {
	for _, w := range warns {
		if w.Code == exporters.WarnSkipped && strings.HasPrefix(w.Message, vendor+": "+rule+" ") {
			return true
		}
	}
	return false
}
