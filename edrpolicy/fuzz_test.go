package edrpolicy

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// seedPolicies are policy documents to start from: the JSON files of the CLI's test scripts
// (hand-written good and bad policies) and policies Decide writes for the synthetic Windows
// install at every level.
func seedPolicies(f *testing.F) [][]byte {
	var out [][]byte
	archives, _ := filepath.Glob(filepath.Join("..", "cmd", "edrpolicy", "testdata", "*", "*.txtar"))
	for _, a := range archives {
		ar, err := txtar.ParseFile(a)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if strings.HasSuffix(file.Name, ".json") && bytes.Contains(file.Data, []byte(`"schema_version"`)) {
				out = append(out, file.Data)
			}
		}
	}
	prof, err := profile.BuiltIn("code42")
	if err != nil {
		f.Fatal(err)
	}
	for _, level := range []Criterion{CriterionHash, CriterionSigner, CriterionPath} {
		opts := DecideOptions{
			Profile: prof, OS: "windows", Version: "11.2.1", Product: "crashplan", Level: level, Now: testNow,
			InstallPaths: map[string][]string{"/tmp/inst": {`C:\Program Files\CrashPlan`}},
			PinSigners:   []string{vendorCert.ThumbprintSHA1},
		}
		pol, err := Decide(windowsInstall(), opts)
		if err != nil {
			f.Fatal(err)
		}
		data, err := pol.JSON()
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

var lineColumn = regexp.MustCompile(`^line \d+, column \d+: |^schema_version `)

// FuzzParsePolicy: policy.json reading and check's lint over the result. Properties: no
// panic; an error names its line and column (or the schema_version); a policy that reads
// back re-encodes to the same bytes after one round (encoding normalises key spelling and
// order); Check's findings refer to existing rules, carry known ids and levels.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range seedPolicies(f) {
		f.Add(s)
	}
	f.Add([]byte(`{"schema_version": 1, "rules": [{"criterion": "path", "value": "C:\\*", "match": "subfolders"}]}`))
	known := CheckFindingLevels()
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			if !lineColumn.MatchString(err.Error()) {
				t.Fatalf("error names no line or field: %q", err)
			}
			return
		}
		b1, err := p.JSON()
		if err != nil {
			t.Fatalf("encoding a policy that was read: %v", err)
		}
		p2, err := ParsePolicy(b1)
		if err != nil {
			t.Fatalf("a re-encoded policy does not read: %v\n%s", err, b1)
		}
		b2, err := p2.JSON()
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("round trip changed the policy (%v):\n%s\n%s", err, b1, b2)
		}
		doc, _, err := CheckJSON(context.Background(), p, CheckArgs{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatalf("check: %v", err)
		}
		var rep checkReport
		if err := json.Unmarshal(doc, &rep); err != nil {
			t.Fatalf("check report: %v", err)
		}
		for _, fd := range rep.Findings {
			if _, ok := known[fd.ID]; !ok {
				t.Fatalf("unknown finding id %q", fd.ID)
			}
			switch fd.Level {
			case "error", "warning", "note":
			default:
				t.Fatalf("finding %s: level %q", fd.ID, fd.Level)
			}
			if fd.Rule != nil && (*fd.Rule < 0 || *fd.Rule >= len(p.Rules)) {
				t.Fatalf("finding %s: rule %d of %d", fd.ID, *fd.Rule, len(p.Rules))
			}
		}
	})
}
