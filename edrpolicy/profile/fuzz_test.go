package profile

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"regexp"
	"testing"
)

// fieldPrefix is how every profile error begins: the decoder's position, or the field or row
// at fault.
// (A field is a profile key, snake_case, with the row index and the sub-key when there is
// one: "schema_version: ...", "paths[3]: ...", "paths[1].versions: ...".)
var fieldPrefix = regexp.MustCompile(`^(decode: line \d+, column \d+: |[a-z_$]+(\[\d+\])?([.\[][a-z_$\[\]0-9.]*)?[: ])`)

// FuzzParse: profile JSON loading and validation. Properties: no panic; every error (each of
// the joined ones) names its line or field; a profile that parses re-encodes to a profile that
// parses and re-encodes to the same bytes; the queries generate runs over it do not panic.
// Seeds: the built-in profiles and the user profile of edrpolicy's tests.
func FuzzParse(f *testing.F) {
	names, _ := fs.Glob(builtinFS, "builtin/*.json")
	for _, n := range names {
		data, err := builtinFS.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if data, err := os.ReadFile("../testdata/myapp.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"schema_version": 1, "name": "x", "title": "t", "sources": [], "paths": [{"os": "linux", "path": "/a", "kind": "folder", "role": "cache", "rule": "never", "versions": ">=1 <2"}]}`))
	// Found by fuzzing: the loader's "schema_version: 0: ..." names its field.
	f.Add([]byte(`{"schema_version": 0, "name": "x", "title": "t", "sources": [], "paths": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			for _, e := range leafErrors(err) {
				if !fieldPrefix.MatchString(e.Error()) {
					t.Fatalf("error names no line or field: %q", e.Error())
				}
			}
			return
		}
		b1, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("encoding a parsed profile: %v", err)
		}
		p2, err := Parse(b1)
		if err != nil {
			t.Fatalf("a re-encoded profile does not parse: %v\n%s", err, b1)
		}
		b2, err := json.Marshal(p2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("round trip changed the profile (%v):\n%s\n%s", err, b1, b2)
		}
		exercise(p)
	})
}

// leafErrors flattens errors.Join trees (and "decode: %w" wrappers are kept whole).
func leafErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leafErrors(e)...)
		}
		return out
	}
	return []error{err}
}

// exercise runs the queries Decide makes, for every OS and every version a row mentions.
func exercise(p *Profile) {
	_, _ = p.Product("")
	var versions []Version
	versions = append(versions, Version{})
	// At most 16 candidate versions: the loops below are quadratic in them, and a mutated
	// profile can list thousands.
	for _, u := range p.Unknowns {
		for _, c := range u.Candidates {
			if v, err := ParseVersion(c); err == nil && len(versions) < 16 {
				versions = append(versions, v)
			}
		}
	}
	for _, v := range []string{"1", "8.0", "11.1.0", "99.99.99"} {
		versions = append(versions, ver(v))
	}
	for _, os := range KnownOSes {
		for _, v := range versions {
			for _, inst := range []string{"", InstallPerUser, "any"} {
				_, _ = p.PathTable(PathQuery{OS: os, Version: v, Install: inst})
				for _, a := range versions {
					_, _ = p.PathTable(PathQuery{OS: os, Version: v, AssumePaths: a})
				}
			}
			_ = p.PortsFor(PortQuery{Version: v})
			_ = p.NotesFor(os, v)
			_ = p.EraFor(v)
			_ = p.ExpectedSigners(os, v)
			_ = p.UnknownsFor("paths", os, v)
		}
		_ = p.ScriptGlobs(os)
	}
	_ = p.OSes()
}
