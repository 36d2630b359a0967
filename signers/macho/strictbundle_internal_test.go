package macho

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStrictSymlinkScopes checks sealed links from a nested bundle into its enclosing bundle:
// allowed when the enclosing seal covers the target (Apple walks mOuterScope), refused when
// the target is omitted there or lies outside every bundle.
func TestStrictSymlinkScopes(t *testing.T) {
	link := func(target string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink}
	}
	fsys := fstest.MapFS{
		"Out.app/Contents/Resources/shared.txt":                     {Data: []byte("x")},
		"Out.app/Contents/Resources/.DS_Store":                      {Data: []byte("x")},
		"Out.app/Contents/Frameworks/In.framework/Versions/A/r.txt": {Data: []byte("x")},
		"Out.app/README": {Data: []byte("x")},
		"Out.app/Contents/Frameworks/In.framework/Versions/Current": link("A"),
	}
	outerRules, err := compileRules(map[string]any{"^.*": true, `^(.*/)?\.DS_Store$`: map[string]any{"omit": true, "weight": 2000.0}})
	require.NoError(t, err)
	inner := "Out.app/Contents/Frameworks/In.framework/Versions/A"
	scopes := []sealScope{{contents: "Out.app/Contents", rules: outerRules}, {contents: inner, rules: defaultSealRules()}}
	p := inner + "/l"
	tests := []struct{ target, want string }{
		{"r.txt", ""},
		{"../Current/r.txt", ""},
		{"../../../../Resources/shared.txt", ""},
		{"../../../../Resources/.DS_Store", "which the seal does not cover"},
		{"../../../../../README", "points outside the bundle"},
		{"../../../../../../../etc", "does not resolve"},
		{"missing", "does not resolve"},
	}
	for _, tc := range tests {
		got := strictSymlink(fsys, p, tc.target, scopes)
		if tc.want == "" {
			assert.Empty(t, got, tc.target)
		} else {
			assert.Contains(t, got, tc.want, tc.target)
		}
	}
	// Without the enclosing scope, the shared file is outside.
	assert.Contains(t, strictSymlink(fsys, p, "../../../../Resources/shared.txt", scopes[1:]), "points outside the bundle")
}
