package edrpolicy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/signers"
)

func diffCert(thumb string, notAfter time.Time) *signers.Certificate {
	return &signers.Certificate{Subject: "CN=Sample Signer,O=Sample", CommonName: "Sample Signer", ThumbprintSHA1: thumb, NotAfter: notAfter}
}

func TestDiff(t *testing.T) {
	const svc, dll = `C:\App\svc.exe`, `C:\App\lib.dll`
	y45, y46 := time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2046, 1, 1, 0, 0, 0, 0, time.UTC)
	hashRule := func(v string, files ...string) Rule {
		return Rule{Criterion: CriterionHash, Value: v, Platform: "windows", Role: "executable", Files: files, Reason: "unsigned"}
	}
	signerRule := func(thumb, file string, na time.Time, files ...string) Rule {
		return Rule{Criterion: CriterionSigner, Value: thumb, Platform: "windows", Role: "executable", Files: files, FileName: file, Signer: diffCert(thumb, na)}
	}
	appleRule := func(thumb string) Rule {
		return Rule{Criterion: CriterionSigner, Value: "TEAM123456", TeamID: "TEAM123456", Platform: "mac", Role: "executable", Files: []string{"/Applications/A.app/Contents/MacOS/A"}, Signer: diffCert(thumb, y45)}
	}
	pathRule := func(v string, match Match) Rule {
		return Rule{Criterion: CriterionPath, Value: v, Platform: "windows", Role: "cache", Match: match, Files: []string{v}}
	}
	tests := []struct {
		name       string
		old, new   []Rule
		want       []string // change|criterion|first file|reason
		renewed    int
		oldV, newV string
	}{
		{name: "equal", old: []Rule{hashRule("aa", svc), pathRule(`C:\Data\cache`, MatchSubfolders)}, new: []Rule{pathRule(`C:\Data\cache`, MatchSubfolders), hashRule("aa", svc)}},
		{name: "new build of the same file", old: []Rule{hashRule("aaaaaaaaaaaaaaaaaaaa", svc)}, new: []Rule{hashRule("bbbbbbbbbbbbbbbbbbbb", svc)},
			want: []string{`changed|hash|C:\App\svc.exe|file content changed (new build): sha256 aaaaaaaaaaaa… → bbbbbbbbbbbb…`}},
		{name: "renewed Authenticode certificate, same subject and file", old: []Rule{signerRule("1111", "svc.exe", y45, svc), signerRule("1111", "lib.dll", y45, dll)}, new: []Rule{signerRule("2222", "svc.exe", y46, svc), signerRule("1111", "lib.dll", y45, dll)},
			want:    []string{`changed|signer|C:\App\svc.exe|signer certificate renewed: same subject CN=Sample Signer,O=Sample, thumbprint 1111 → 2222, not_after 2045-01-01 → 2046-01-01`},
			renewed: 1},
		{name: "renewed Apple certificate, same Team ID", old: []Rule{appleRule("1111")}, new: []Rule{appleRule("3333")},
			want:    []string{`changed|signer|/Applications/A.app/Contents/MacOS/A|signer certificate renewed: same Team ID TEAM123456, thumbprint 1111 → 3333`},
			renewed: 1},
		{name: "renewed and no longer narrowed", old: []Rule{signerRule("1111", "svc.exe", y45, svc)}, new: []Rule{signerRule("2222", "", y46, svc)},
			want: []string{
				`added|signer|C:\App\svc.exe|signer certificate renewed: same subject CN=Sample Signer,O=Sample, new thumbprint 2222 (was 1111), not_after 2045-01-01 → 2046-01-01`,
				`removed|signer|C:\App\svc.exe|not in the new policy`,
			},
			renewed: 1},
		{name: "added, removed, files and match", old: []Rule{hashRule("aa", svc), signerRule("1111", "", y45, svc), pathRule(`C:\Data\cache`, MatchFolder)}, new: []Rule{signerRule("1111", "", y45, svc, dll), pathRule(`C:\Data\cache`, MatchSubfolders), hashRule("cc", dll)},
			want: []string{
				`added|hash|C:\App\lib.dll|not in the old policy`,
				`changed|signer|C:\App\lib.dll|files +C:\App\lib.dll`,
				`removed|hash|C:\App\svc.exe|not in the new policy`,
				`changed|path|C:\Data\cache|match folder → subfolders`,
			}},
		{name: "kept rule of the previous version", old: []Rule{hashRule("aa", svc)}, new: []Rule{hashRule("bb", svc), func() Rule { r := hashRule("aa", svc); r.AppVersion = "11.1.0"; return r }()},
			// One line: the new build, and the previous rule kept for the rollout window.
			want: []string{
				`changed|hash|C:\App\svc.exe|file content changed (new build): sha256 aa → bb; the previous rule is kept for the rollout window, labelled app_version 11.1.0`,
			}},
		{name: "kept rule without a new build (the file is gone)", old: []Rule{hashRule("aa", svc)}, new: []Rule{func() Rule { r := hashRule("aa", svc); r.AppVersion = "11.1.0"; return r }()},
			want: []string{`changed|hash|C:\App\svc.exe|app_version label (none) → 11.1.0`}},
		{name: "two kept rules, two new builds", old: []Rule{hashRule("aa", svc), hashRule("cc", `C:\App\b.exe`)},
			new: []Rule{hashRule("bb", svc), hashRule("dd", `C:\App\b.exe`),
				func() Rule { r := hashRule("aa", svc); r.AppVersion = "1"; return r }(), func() Rule { r := hashRule("cc", `C:\App\b.exe`); r.AppVersion = "1"; return r }()},
			want: []string{
				`changed|hash|C:\App\b.exe|file content changed (new build): sha256 cc → dd; the previous rule is kept for the rollout window, labelled app_version 1`,
				`changed|hash|C:\App\svc.exe|file content changed (new build): sha256 aa → bb; the previous rule is kept for the rollout window, labelled app_version 1`,
			}},
		{name: "governance", old: []Rule{hashRule("aa", svc)}, new: []Rule{func() Rule { r := hashRule("aa", svc); r.Owner = "secops"; return r }()},
			want: []string{`changed|hash|C:\App\svc.exe|owner "" → "secops"`}},
		{name: "only the version", oldV: "11.1.0", newV: "11.2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff(&Policy{AppVersion: tt.oldV, Rules: tt.old}, &Policy{AppVersion: tt.newV, Rules: tt.new})
			got := []string{}
			for _, c := range d.Changes {
				got = append(got, c.Change+"|"+string(c.Criterion)+"|"+firstFile(c.Files)+"|"+c.Reason)
			}
			if tt.want == nil {
				tt.want = []string{}
			}
			assert.Equal(t, tt.want, got)
			assert.Len(t, d.Renewals(), tt.renewed)
			if tt.oldV != tt.newV {
				assert.Equal(t, []FieldChange{{Field: "app_version", Old: tt.oldV, New: tt.newV}}, d.Fields)
			} else {
				assert.Empty(t, d.Fields)
			}
			assert.Equal(t, len(tt.want) == 0 && tt.oldV == tt.newV, d.Equal())
		})
	}
}

func TestDiffCountsAndNil(t *testing.T) {
	d := Diff(nil, &Policy{Rules: []Rule{{Criterion: CriterionHash, Value: "aa", Files: []string{"a"}}}})
	assert.Equal(t, 1, d.Count(ChangeAdded))
	assert.Equal(t, 0, d.Count(ChangeRemoved))
	require.False(t, d.Equal())
	assert.True(t, Diff(nil, nil).Equal())
}

func TestKeepPreviousNeedsPrevious(t *testing.T) {
	_, err := Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "linux", Version: "11.0", KeepPrevious: true})
	require.EqualError(t, err, "KeepPrevious: needs the previous policy: the rules to keep come from it")
	_, err = Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "linux", Version: "11.0", Previous: &Policy{OS: "mac"}})
	require.EqualError(t, err, "Previous: that policy is for os mac, this one for linux: give the previous policy of the same OS")
}
