package profile

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func macFiles() []ObservedFile {
	dev := ObservedSigner{Kind: "apple", TeamID: "ABCDE12345", SigningID: "com.example.app", CommonName: "Developer ID Application: Example (ABCDE12345)", ThumbprintSHA1: strings.Repeat("1", 40), ThumbprintSHA256: strings.Repeat("2", 64), NotAfter: "2030-01-01", Chain: "trusted"}
	helper := dev
	helper.SigningID = "com.example.helper"
	other := ObservedSigner{Kind: "apple", TeamID: "ZZZZZ99999", SigningID: "org.lib", ThumbprintSHA256: strings.Repeat("3", 64), Chain: "unknown-root"}
	return []ObservedFile{
		{Path: "Example.app", Kind: ObservedBundle, BundleVersion: "3.2.1"},
		{Path: "Example.app/Contents/MacOS/Example", Kind: ObservedExecutable, Format: "macho", SHA256: "aa", SignatureStatus: "valid", Signers: []ObservedSigner{dev}},
		{Path: "Example.app/Contents/Helpers/helper", Kind: ObservedExecutable, Format: "macho-universal", SHA256: "bb", SignatureStatus: "valid", Signers: []ObservedSigner{helper, helper}},
		{Path: "Example.app/Contents/Frameworks/Lib.framework/Lib", Kind: ObservedExecutable, Format: "macho", SHA256: "cc", SignatureStatus: "valid", Signers: []ObservedSigner{other}},
		{Path: "Example.app/Contents/MacOS/tampered", Kind: ObservedExecutable, Format: "macho", SHA256: "dd", SignatureStatus: "invalid"},
		{Path: "Example.app/Contents/Resources/Caches/thumbs.db", Kind: ObservedOther},
		{Path: "Example.app/Contents/Resources/Logs/x.log", Kind: ObservedOther},
		{Path: "Example.app/Contents/Resources/setup.command", Kind: ObservedScript, Format: "other", SHA256: "ee"},
		{Path: "Example.app/Contents/Resources/catalog.txt", Kind: ObservedOther},
	}
}

func TestStarterMac(t *testing.T) {
	for _, install := range []string{"/Applications", ""} {
		p, err := Starter(StarterInput{Name: "example", OS: "mac", Root: "/tmp/x", InstallPath: install, Files: macFiles()})
		require.NoError(t, err)
		var teams []string
		for _, s := range p.Signers {
			teams = append(teams, s.TeamID)
			assert.Equal(t, ConfidenceObserved, s.Confidence)
		}
		assert.Equal(t, []string{"ABCDE12345", "ZZZZZ99999"}, teams)
		assert.Contains(t, p.Signers[0].Note, "seen on 2 file(s)")
		assert.Contains(t, p.Signers[0].Note, "signing identifiers com.example.app, com.example.helper")
		assert.Contains(t, p.Signers[1].Note, "chain unknown-root (for signer rules, generate needs its root trusted or the signer pinned")
		require.Len(t, p.VersionSources, 1)
		assert.Equal(t, VersionSource{OS: "mac", Kind: "plist", Files: []string{"Example.app"}, Cite: p.VersionSources[0].Cite}, p.VersionSources[0])
		require.Len(t, p.Scripts, 1)
		assert.Equal(t, []string{"Example.app/Contents/Resources/setup.command"}, p.Scripts[0].Files)
		var whats []string
		for _, u := range p.Unknowns {
			whats = append(whats, u.What)
			assert.True(t, strings.HasPrefix(u.Message, "TODO: ") || strings.HasPrefix(u.Message, "SUGGESTION"), u.Message)
		}
		if install == "" {
			assert.Empty(t, p.Paths)
			assert.Subset(t, whats, []string{"main-app", "suggested-cache", "suggested-logs", "versions", "ports", "advice"})
			continue
		}
		assert.NotContains(t, whats, "main-app")
		var rows []string
		for _, r := range p.Paths {
			rows = append(rows, string(r.Role)+" "+r.Rule+" "+r.Path)
		}
		assert.Equal(t, []string{
			"executable never /Applications",
			"cache never /Applications/Example.app/Contents/Resources/Caches",
			"logs never /Applications/Example.app/Contents/Resources/Logs",
		}, rows, "suggestions are rule never: no rule until the author reviews them")
		assert.Contains(t, p.Paths[1].Note, "SUGGESTION to review")
	}
}

// The same install in any order gives the same bytes; the output passes the loader and the
// schema; a misspelt key in row 3 of the output names row 3.
func TestStarterDeterministicAndValid(t *testing.T) {
	sch := compileSchema(t)
	in := StarterInput{Name: "example", OS: "mac", Root: "/tmp/x", InstallPath: "/Applications", Files: macFiles()}
	p, err := Starter(in)
	require.NoError(t, err)
	want, err := p.JSON()
	require.NoError(t, err)
	for i := 0; i < 10; i++ {
		rand.New(rand.NewSource(int64(i))).Shuffle(len(in.Files), func(a, b int) { in.Files[a], in.Files[b] = in.Files[b], in.Files[a] })
		q, err := Starter(in)
		require.NoError(t, err)
		got, _ := q.JSON()
		require.Equal(t, string(want), string(got))
	}
	assert.NoError(t, validateDoc(t, sch, want))
	back, err := Parse(want)
	require.NoError(t, err)
	again, _ := back.JSON()
	assert.Equal(t, string(want), string(again))

	var doc map[string]any
	require.NoError(t, json.Unmarshal(want, &doc))
	rows := doc["facts"].([]any)
	require.Greater(t, len(rows), 3)
	row3 := rows[3].(map[string]any)
	row3["valeu"] = row3["value"]
	delete(row3, "value")
	bad, err := json.Marshal(doc)
	require.NoError(t, err)
	_, err = Parse(bad)
	assert.ErrorContains(t, err, `facts[3]: unknown key "valeu"`)
	assert.Error(t, validateDoc(t, sch, bad))
}

func TestStarterRefusesBadInput(t *testing.T) {
	_, err := Starter(StarterInput{Name: "my app", OS: "mac"})
	assert.ErrorContains(t, err, `name: "my app": want a short name`)
	_, err = Starter(StarterInput{Name: "x", OS: "beos"})
	assert.ErrorContains(t, err, `os "beos"`)
	p, err := Starter(StarterInput{Name: "empty", OS: "linux"})
	require.NoError(t, err)
	var whats []string
	for _, u := range p.Unknowns {
		whats = append(whats, u.What)
	}
	assert.Subset(t, whats, []string{"main-app", "signer", "version-file"})
}
