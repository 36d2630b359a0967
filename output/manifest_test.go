package output

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/atomicfile"
)

func TestParseManifest(t *testing.T) {
	h1, h2 := strings.Repeat("a", 64), strings.Repeat("B", 64)
	entries, err := ParseManifest([]byte(h1 + "  policy.json\n" + h2 + " *defender.csv\r\n"))
	require.NoError(t, err)
	assert.Equal(t, []ManifestEntry{{h1, "policy.json"}, {strings.ToLower(h2), "defender.csv"}}, entries)
	assert.Equal(t, h1+"  policy.json\n"+strings.ToLower(h2)+"  defender.csv\n", string(FormatManifest(entries)))

	for _, tc := range []struct{ doc, want string }{
		{h1 + "  ../etc/passwd\n", `line 1: file name "../etc/passwd" is not a plain file name`},
		{"x\n" + h1 + "  /abs\n", "line 1: want \"<sha256 hex>  <file name>\"\nline 2: file name \"/abs\" is not"},
		{h1 + "  a\n" + h1 + "  a\n", `line 2: "a" is listed twice (first on line 1)`},
		{h1 + "  " + ManifestName + "\n", "line 1: the manifest lists itself"},
		{strings.Repeat("g", 64) + "  a\n", `line 1: digest "gggg`},
		{h1 + "  a\n\n", "line 2: empty line"},
		{h1 + "  a\\b\n", `line 1: file name "a\\b" is not a plain file name`},
		{h1 + "  \n", `line 1: file name "" is not a plain file name`},
	} {
		_, err := ParseManifest([]byte(tc.doc))
		require.Error(t, err, tc.doc)
		assert.Contains(t, err.Error(), tc.want, tc.doc)
	}
}

var manifestLine = regexp.MustCompile(`^line (\d+): `)

// FuzzParseManifest: the MANIFEST.sha256 parser. Properties: no panic; every error names a
// line that exists; every entry has a lower-case 64-hex digest and a plain, unique name other
// than the manifest's; entries plus errors account for every line; formatting the entries
// and parsing again gives the same entries and no error.
func FuzzParseManifest(f *testing.F) {
	for _, seed := range []int{0, 3} {
		var m []ManifestEntry
		for i, name := range []string{"policy.json", "defender-indicators-001.csv", "com.microsoft.wdav.plist"} {
			m = append(m, ManifestEntry{SHA256: strings.Repeat(string("0123456789abcdef"[i+seed]), 64), Name: name})
		}
		f.Add(FormatManifest(m))
	}
	f.Add([]byte(strings.Repeat("a", 64) + "  ../../etc/passwd\n" + strings.Repeat("B", 64) + " *x.csv\r\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseManifest(data)
		lines := strings.Split(string(data), "\n")
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		nerr := 0
		if err != nil {
			for _, e := range strings.Split(err.Error(), "\n") {
				m := manifestLine.FindStringSubmatch(e)
				if m == nil {
					// A quoted name may hold no newline (names with control characters are
					// refused), so every error line starts with its number.
					t.Fatalf("error names no line: %q", e)
				}
				nerr++
			}
		}
		if len(entries)+nerr != len(lines) {
			t.Fatalf("%d entries + %d errors for %d lines", len(entries), nerr, len(lines))
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if len(e.SHA256) != 64 || strings.ToLower(e.SHA256) != e.SHA256 || !atomicfile.PlainName(e.Name) || e.Name == ManifestName || seen[e.Name] {
				t.Fatalf("bad entry %+v", e)
			}
			seen[e.Name] = true
		}
		again, err := ParseManifest(FormatManifest(entries))
		if err != nil || len(again) != len(entries) {
			t.Fatalf("formatted entries do not parse back: %v", err)
		}
		for i := range again {
			if again[i] != entries[i] {
				t.Fatalf("entry %d: %+v became %+v", i, entries[i], again[i])
			}
		}
	})
}
