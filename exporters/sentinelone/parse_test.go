package sentinelone_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/hashing"
)

func readBack(t *testing.T, so sentinelone.Options, o core.Options, mac bool) []string {
	t.Helper()
	p := tp.WithoutNarrowed(tp.Windows(t))
	if mac {
		p = tp.WithoutNarrowed(tp.Mac(t))
	}
	files, _ := tp.Export(t, sentinelone.New(so), p, o)
	return tp.ReadBack(t, sentinelone.New(sentinelone.Options{}), files)
}

// TestReadBackEntries: the exclusions file parses back into the entries the policy asks for:
// SHA-1 white_hash (and the SHA-256 one when asked), the publisher name, paths with their
// pathExclusionType and mode.
func TestReadBackEntries(t *testing.T) {
	sum := tp.Sum("CrashPlanService.exe")
	sha1 := tp.Digests(sum)[sum].SHA1
	macSum := tp.Sum("CrashPlanService")
	f := sentinelone.FileName
	cases := []struct {
		name string
		rows []string
		want []string
	}{
		// Force: the publisher-name certificate exclusion is written (without it, the signer
		// rule's files by hash: TestPublisherRefused).
		{"windows", readBack(t, site, core.Options{Digests: tp.Digests(sum), Force: true}, false), []string{
			f + " | certificate | certificate | Code42 Software, Inc. | windows |  | ",
			f + " | hash | white_hash | " + sha1 + " | windows |  | ",
			f + ` | path | path | C:\Program Files\CrashPlan\CrashPlanService.exe | windows | file | suppress`,
			f + ` | path | path | C:\ProgramData\CrashPlan\cache\ | windows | subfolders | suppress`,
			f + ` | path | path | C:\Users\*\AppData\Local\CrashPlan\log\ | windows | folder | suppress`,
		}},
		{"mac sha256 tenant", readBack(t, sentinelone.Options{Tenant: true, SHA256: true, Mode: "disable_all_monitors"}, core.Options{Force: true}, true), []string{
			f + " | certificate | certificate | Developer ID Application: Code42 Software, Inc (9YV9435DHD) | mac |  | ",
			f + " | hash | white_hash | " + macSum + " | mac |  | ",
			f + " | path | path | /Applications/CrashPlan.app/Contents/MacOS/CrashPlan | mac | file | disable_all_monitors",
			f + " | path | path | /Library/Caches/CrashPlan/ | mac | subfolders | disable_all_monitors",
			f + " | path | path | /Users/*/Library/Logs/CrashPlan/ | mac | subfolders | disable_all_monitors",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, c.rows) })
	}
}

func TestReadBackGolden(t *testing.T) {
	for _, dir := range []string{"windows", "windows-nosha1", "mac-sha256", "linux", "tricky"} {
		rows, refused := tp.ReadBackTolerant(t, sentinelone.New(sentinelone.Options{}), tp.GoldenFiles(t, dir))
		if dir == "tricky" {
			// A path with a line break, if the exporter writes one, makes the file refused.
			assert.True(t, len(rows) > 0 || refused == 1)
			continue
		}
		assert.NotEmpty(t, rows, dir)
		assert.Zero(t, refused, dir)
	}
}

func TestParseRefuses(t *testing.T) {
	body := func(data string) string { return `[{"filter":{"tenant":true},"data":` + data + `}]` }
	cases := []struct{ name, data, err string }{
		{"file_type", body(`{"type":"file_type","osType":"windows","value":"exe"}`), `type "file_type"`},
		{"browser", body(`{"type":"browser","osType":"windows","value":"chrome"}`), `type "browser"`},
		{"sha1 too short", body(`{"type":"white_hash","osType":"windows","value":"abcd"}`), "is not 40 hex digits"},
		{"unknown os", body(`{"type":"white_hash","osType":"solaris","value":"` + tp.Sum("x")[:40] + `"}`), `osType "solaris"`},
		{"path type", body(`{"type":"path","osType":"linux","value":"/opt","pathExclusionType":"everything"}`), `pathExclusionType "everything"`},
		{"empty path", body(`{"type":"path","osType":"linux","value":"","pathExclusionType":"file"}`), "empty value"},
		{"newline in certificate", body(`{"type":"certificate","osType":"windows","value":"Evil\nCorp"}`), "control character"},
		{"not a list", `{"filter":{},"data":{}}`, "not the expected JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sentinelone.New(sentinelone.Options{}).Parse(sentinelone.FileName, []byte(c.data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.err)
		})
	}
	_, err := sentinelone.New(sentinelone.Options{}).Parse("other.json", []byte(`[]`))
	assert.Error(t, err)
}

func TestAllows(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sha1 := "0123456789abcdef0123456789abcdef01234567"
	exe := core.Subject{Platform: "windows", Path: `C:\Program Files\CrashPlan\bin\CrashPlanService.exe`, Digests: hashing.Digests{SHA256: tp.Sum("a"), SHA1: sha1},
		Signers: []core.SubjectSigner{{ThumbprintSHA1: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", CommonName: "Code42 Software, Inc."}}}
	lin := core.Subject{Platform: "linux", Path: "/usr/local/crashplan/bin/CrashPlanService"}
	path := func(v string, match edrpolicy.Match) core.Entry {
		return core.Entry{Kind: core.EntryPath, Type: "path", Value: v, Platform: "windows", Match: match, Action: "suppress"}
	}
	with := func(e core.Entry, f func(*core.Entry)) core.Entry { f(&e); return e }
	cases := []struct {
		name string
		e    core.Entry
		t    core.Subject
		want bool
	}{
		{"sha1", core.Entry{Kind: core.EntryHash, Type: "white_hash", Value: sha1, Platform: "windows"}, exe, true},
		{"sha256 option", core.Entry{Kind: core.EntryHash, Type: "white_hash", Value: tp.Sum("a"), Platform: "windows"}, exe, true},
		{"sha1 other os", core.Entry{Kind: core.EntryHash, Type: "white_hash", Value: sha1, Platform: "mac"}, exe, false},
		{"publisher", core.Entry{Kind: core.EntryCertificate, Type: "certificate", Value: "Code42 Software, Inc.", Platform: "windows"}, exe, true},
		{"other publisher", core.Entry{Kind: core.EntryCertificate, Type: "certificate", Value: "Code42", Platform: "windows"}, exe, false},
		{"file, case-insensitive", path(`c:\program files\crashplan\bin\crashplanservice.exe`, "file"), exe, true},
		{"file without drive letter", path(`\Program Files\CrashPlan\bin\CrashPlanService.exe`, "file"), exe, true},
		{"file wildcard in one folder", path(`C:\Program Files\*\bin\CrashPlanService.exe`, "file"), exe, true},
		{"folder direct", path(`C:\Program Files\CrashPlan\bin\`, "folder"), exe, true},
		{"folder not deeper", path(`C:\Program Files\CrashPlan\`, "folder"), exe, false},
		{"subfolders deeper", path(`C:\Program Files\CrashPlan\`, "subfolders"), exe, true},
		{"subfolders is not the file", path(`C:\Program Files\CrashPlan\bin\CrashPlanService.exe\`, "subfolders"), exe, false},
		{"mode dfi only", with(path(`C:\Program Files\CrashPlan\`, "subfolders"), func(e *core.Entry) { e.Action = "suppress_dfi_only" }), exe, false},
		{"linux case-sensitive", core.Entry{Kind: core.EntryPath, Type: "path", Value: "/usr/local/CrashPlan/", Platform: "linux", Match: "subfolders", Action: "suppress"}, lin, false},
		{"linux subfolders", core.Entry{Kind: core.EntryPath, Type: "path", Value: "/usr/local/crashplan/", Platform: "linux", Match: "subfolders", Action: "suppress"}, lin, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, sentinelone.New(sentinelone.Options{}).Allows(c.e, c.t, now))
		})
	}
}
