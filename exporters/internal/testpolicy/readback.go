package testpolicy

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
)

// Parser is what ReadBack needs of a vendor exporter.
type Parser interface {
	Owns(name string) bool
	Parse(name string, data []byte) ([]core.Entry, error)
}

// ReadBack parses every vendor file back, failing the test when one does not parse, and
// returns the entries as Rows. Files the reader does not own (notes such as a README, the
// coverage report) are skipped.
func ReadBack(t testing.TB, p Parser, files map[string][]byte) []string {
	t.Helper()
	var rows []string
	for name, data := range files {
		if !p.Owns(name) {
			continue
		}
		es, err := p.Parse(name, data)
		if err != nil {
			t.Fatalf("%s: written by the exporter, does not parse back: %v", name, err)
		}
		rows = append(rows, Rows(es)...)
	}
	sort.Strings(rows)
	return rows
}

// Rows renders entries as sorted "file kind type value platform match action" lines, for
// comparing entry sets in tests.
func Rows(es []core.Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, strings.Join([]string{e.File, string(e.Kind), e.Type, e.Value, string(e.Platform), string(e.Match), e.Action}, " | "))
	}
	sort.Strings(out)
	return out
}

// GoldenFiles reads every file of testdata/<dir> by name.
func GoldenFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join("testdata", dir))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join("testdata", dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = data
	}
	return out
}

// ReadBackTolerant is ReadBack, except that a file refused only for a control character in a
// value is skipped and counted: the exporters still write names with line breaks (issue 12
// item 7 has them refuse such path rules), and the readers refuse them.
func ReadBackTolerant(t testing.TB, p Parser, files map[string][]byte) (rows []string, refused int) {
	t.Helper()
	for name, data := range files {
		if !p.Owns(name) {
			continue
		}
		es, err := p.Parse(name, data)
		if err != nil && strings.Contains(err.Error(), "control character") {
			refused++
			continue
		}
		if err != nil {
			t.Fatalf("%s: written by the exporter, does not parse back: %v", name, err)
		}
		rows = append(rows, Rows(es)...)
	}
	sort.Strings(rows)
	return rows, refused
}

// WithoutNarrowed returns p without the rules a vendor may not express as decided: signer
// rules narrowed to one file, and path rules whose value holds a character some vendor reads
// as a pattern ('?', brackets, braces, '%'). How the exporters express those, or fall back,
// is their business, not the readers'.
func WithoutNarrowed(p *edrpolicy.Policy) *edrpolicy.Policy {
	out := *p
	out.Rules = nil
	for _, r := range p.Rules {
		if r.Criterion == edrpolicy.CriterionSigner && (r.FileName != "" || r.SigningID != "") {
			continue
		}
		if r.Criterion == edrpolicy.CriterionPath && strings.ContainsAny(r.Value, "?[]{}%") {
			continue
		}
		out.Rules = append(out.Rules, r)
	}
	return &out
}
