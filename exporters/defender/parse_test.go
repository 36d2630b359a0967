package defender_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// TestReadBackEntries: every Defender file parses back into the entries the policy asks for.
func TestReadBackEntries(t *testing.T) {
	cert, _ := tp.Leaf(t, "Code42 Software, Inc.", "Code42 Software, Inc.")
	sum := tp.Sum("CrashPlanService.exe")
	sha1 := tp.Digests(sum)[sum].SHA1
	lin := tp.Sum("CrashPlanService-linux")
	win, _ := exportWith(t, defender.Options{SHA1: true, ProcessExclusions: true}, tp.WithoutNarrowed(tp.Windows(t)), core.Options{Digests: tp.Digests(sum)})
	linux, _ := export(t, tp.WithoutNarrowed(tp.Linux()), core.Options{Force: true})
	mac, _ := export(t, tp.Mac(t), core.Options{})
	ps := "defender-av-exclusions.ps1 | path | "
	cases := []struct {
		name string
		rows []string
		want []string
	}{
		{"windows", tp.ReadBack(t, defender.New(defender.Options{}), win), []string{
			"defender-cert-001.cer | certificate | cer | " + cert.ThumbprintSHA1 + " | windows |  | ",
			"defender-indicators-001.csv | hash | FileSha1 | " + sha1 + " |  |  | Allowed",
			"defender-indicators-001.csv | hash | FileSha256 | " + sum + " |  |  | Allowed",
			"defender-indicators.json | certificate | CertificateThumbprint | " + cert.ThumbprintSHA1 + " |  |  | Allowed",
			"defender-indicators.json | hash | FileSha1 | " + sha1 + " |  |  | Allowed",
			"defender-indicators.json | hash | FileSha256 | " + sum + " |  |  | Allowed",
			ps + `ExclusionPath | C:\Program Files\CrashPlan\CrashPlanService.exe | windows |  | `,
			ps + `ExclusionPath | C:\ProgramData\CrashPlan\cache | windows |  | `,
			ps + `ExclusionPath | C:\Users\*\AppData\Local\CrashPlan\log | windows |  | `,
			ps + `ExclusionProcess | C:\Program Files\CrashPlan\CrashPlanService.exe | windows |  | `,
		}},
		{"linux", tp.ReadBack(t, defender.New(defender.Options{}), linux), []string{
			"defender-indicators-001.csv | hash | FileSha256 | " + lin + " |  |  | Allowed",
			"defender-indicators.json | hash | FileSha256 | " + lin + " |  |  | Allowed",
			"mdatp_managed.json | path | excludedPath | /usr/local/crashplan/bin/CrashPlanService | linux | file | ",
			"mdatp_managed.json | path | excludedPath | /usr/local/crashplan/cache | linux | subfolders | ",
		}},
		{"mac", filterPrefix(tp.ReadBack(t, defender.New(defender.Options{}), mac), "com.microsoft.wdav.plist"), []string{
			"com.microsoft.wdav.plist | path | excludedPath | /Applications/CrashPlan.app/Contents/MacOS/CrashPlan | mac | file | ",
			"com.microsoft.wdav.plist | path | excludedPath | /Library/Caches/CrashPlan | mac | subfolders | ",
			"com.microsoft.wdav.plist | path | excludedPath | /Users/*/Library/Logs/CrashPlan | mac | subfolders | ",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.ElementsMatch(t, c.want, c.rows) })
	}
}

func filterPrefix(rows []string, prefix string) []string {
	var out []string
	for _, r := range rows {
		if strings.HasPrefix(r, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func TestReadBackGolden(t *testing.T) {
	for _, dir := range []string{"windows", "windows-sha1-groups", "mac", "linux", "tricky", "windows-process-exclusions"} {
		rows, refused := tp.ReadBackTolerant(t, defender.New(defender.Options{}), tp.GoldenFiles(t, dir))
		assert.NotEmpty(t, rows, dir)
		if dir != "tricky" {
			assert.Zero(t, refused, dir)
		}
	}
}

// adder is a helper like the one generated scripts define to print, add and verify each
// exclusion: its calls say what it adds.
const adder = `function Add-Exclusion([string]$Kind, [string]$Value) {
    $script:wanted += ,@($Kind, $Value)
    if ($dry) {
        Write-Output ("What if: Add-MpPreference -{0} '{1}'" -f $Kind, $Value.Replace("'", "''"))
        return
    }
    try {
        if ($Kind -eq 'ExclusionProcess') {
            Add-MpPreference -ExclusionProcess $Value
        } else {
            Add-MpPreference -ExclusionPath $Value
        }
    } catch {
        Write-Warning ("Add-MpPreference -{0} '{1}' failed: {2}" -f $Kind, $Value, $_)
    }
}
`

// TestParseScript: the script parser reads single-quoted literals the way PowerShell does
// (every quote character, doubled quotes), with or without a BOM, CRLF line ends, comments
// and dry-run prints skipped; anything it cannot read exactly is an error.
func TestParseScript(t *testing.T) {
	cases := []struct {
		name, script string
		want         []string
		err          string
	}{
		{"plain", "Add-MpPreference -ExclusionPath 'C:\\A\\b.exe' -WhatIf:$WhatIf\n", []string{`ExclusionPath C:\A\b.exe`}, ""},
		{"BOM and CRLF", "\ufeff# c\r\nAdd-MpPreference -ExclusionPath 'C:\\A'\r\n", []string{`ExclusionPath C:\A`}, ""},
		{"doubled quotes", "Add-MpPreference -ExclusionPath 'C:\\O''Brien\u2019\u2019s'\n", []string{`ExclusionPath C:\O'Brien’s`}, ""},
		{"typographic delimiters", "Add-MpPreference -ExclusionPath \u2018C:\\A\u2019\n", []string{`ExclusionPath C:\A`}, ""},
		{"dollar and backtick stay literal", "Add-MpPreference -ExclusionPath 'C:\\$(calc) `t'\n", []string{"ExclusionPath C:\\$(calc) `t"}, ""},
		{"array", "Add-MpPreference -ExclusionPath 'C:\\A','C:\\B' -ExclusionProcess 'C:\\A\\x.exe'\n", []string{`ExclusionPath C:\A`, `ExclusionPath C:\B`, `ExclusionProcess C:\A\x.exe`}, ""},
		{"attached colon", "Add-MpPreference -ExclusionPath:'C:\\A'\n", []string{`ExclusionPath C:\A`}, ""},
		{"in an if block", "if (-not $WhatIf) { Add-MpPreference -ExclusionPath 'C:\\A' }\n", []string{`ExclusionPath C:\A`}, ""},
		{"dry-run print skipped", "Write-Host \"Add-MpPreference -ExclusionPath 'C:\\'\"\n", nil, ""},
		{"comment skipped", "# Add-MpPreference -ExclusionPath 'C:\\'\n<# Add-MpPreference -ExclusionPath 'D:\\'\n#>\n", nil, ""},
		{"remove ignored", "Remove-MpPreference -ExclusionPath 'C:\\A'\n", nil, ""},
		{"set counts", "Set-MpPreference -ExclusionExtension 'tmp'\n", []string{"ExclusionExtension tmp"}, ""},
		{"variable refused", "Add-MpPreference -ExclusionPath $p\n", nil, "not a single-quoted literal"},
		{"double-quoted refused", "Add-MpPreference -ExclusionPath \"$env:TEMP\"\n", nil, "not a single-quoted literal"},
		{"unknown command", "Invoke-Thing -ExclusionPath 'C:\\'\n", nil, "cannot tell what it adds"},
		{"unclosed literal", "Add-MpPreference -ExclusionPath 'C:\\A\n", nil, "never closed"},
		{"unclosed block comment", "<# never closed\n", nil, "never closed"},
		{"helper function, called with literals", adder + "Add-Exclusion 'ExclusionPath' 'C:\\A'\nAdd-Exclusion 'exclusionprocess' 'C:\\A\\x.exe'\n",
			[]string{`ExclusionPath C:\A`, `ExclusionProcess C:\A\x.exe`}, ""},
		{"helper called with a variable", adder + "Add-Exclusion 'ExclusionPath' $p\n", nil, "two single-quoted literals"},
		{"helper called with another parameter", adder + "Add-Exclusion 'ExclusionIpAddress' '10.0.0.1'\n", nil, "is not an exclusion parameter"},
		{"other function's literals are not exclusions", "function Show([string]$a) { Write-Output $a }\nShow 'ExclusionPath' 'C:\\'\n", nil, ""},
		{"variable outside a function", "$v = 'C:\\'\nAdd-MpPreference -ExclusionPath $v\n", nil, "not a single-quoted literal"},
		{"newline escape in value", "Add-MpPreference -ExclusionPath 'C:\\A\u0085'\n", nil, "control character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			es, err := defender.ParseScript(defender.ScriptFile, []byte(c.script))
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, e := range es {
				got = append(got, e.Type+" "+e.Value)
			}
			assert.Equal(t, c.want, got)
		})
	}
}

// TestScriptRoundTrip: every tricky name the exporter writes into the script comes back
// exactly (the one with a line break is refused by the reader).
func TestScriptRoundTrip(t *testing.T) {
	files, _ := export(t, tp.TrickyNames(), core.Options{Force: true})
	for _, n := range tp.Tricky {
		if strings.ContainsAny(n, "\n") {
			continue
		}
		script := "Add-MpPreference -ExclusionPath " + core.PSQuote(`C:\Apps\`+n) + " -WhatIf:$WhatIf\n"
		es, err := defender.ParseScript(defender.ScriptFile, []byte(script))
		require.NoError(t, err, n)
		require.Len(t, es, 1)
		assert.Equal(t, `C:\Apps\`+n, es[0].Value)
	}
	require.Contains(t, files, defender.ScriptFile)
}

func TestParseRefuses(t *testing.T) {
	csvHead := strings.Join(defender.CSVHeader, ",") + "\n"
	cases := []struct{ name, file, data, err string }{
		{"url indicator", "defender-indicators.json", `{"Indicators":[{"indicatorValue":"http://x","indicatorType":"Url","action":"Allowed"}]}`, `type "Url"`},
		{"sha256 short", "defender-indicators.json", `{"Indicators":[{"indicatorValue":"abc","indicatorType":"FileSha256","action":"Allowed"}]}`, "64 hex digits"},
		{"cert in csv", "defender-indicators-001.csv", csvHead + "CertificateThumbprint," + tp.Sum("x")[:40] + ",,Allowed,Informational,t,d,,,,,False\n", "CSV import takes no CertificateThumbprint"},
		{"csv short row", "defender-indicators-001.csv", csvHead + "FileSha256\n", "columns"},
		{"csv expiry", "defender-indicators-001.csv", csvHead + "FileSha256," + tp.Sum("x") + ",soon,Allowed,Informational,t,d,,,,,False\n", "is not a date"},
		{"cer garbage", "defender-cert-001.cer", "not a certificate", "not a certificate"},
		{"cer two pems", "defender-cert-001.cer", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a certificate"},
		{"mdatp unknown type", "mdatp_managed.json", `{"exclusionSettings":{"exclusions":[{"$type":"excludedEverything","path":"/"}]}}`, `$type "excludedEverything"`},
		{"mdatp isDirectory string", "mdatp_managed.json", `{"exclusionSettings":{"exclusions":[{"$type":"excludedPath","path":"/opt","isDirectory":"yes"}]}}`, "not the expected JSON"},
		{"plist garbage", "com.microsoft.wdav.plist", "<plist><dict><key>antivirusEngine</key><string>x</string></dict></plist>", "not the expected property list"},
		{"not ours", "defender-other.csv", "", "not a file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := defender.New(defender.Options{}).Parse(c.file, []byte(c.data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.err)
		})
	}
}

// TestParseManagedMerged: a merged mdatp_managed.json (older antivirusEngine block, other
// settings, extension and process exclusions) and a mobileconfig payload read back.
func TestParseManagedMerged(t *testing.T) {
	js := `{"antivirusEngine":{"enforcementLevel":"real_time","exclusions":[{"$type":"excludedFileExtension","extension":".pdf"},{"$type":"excludedFileName","name":"cp"}],"exclusionsMergePolicy":"merge"},
	"exclusionSettings":{"exclusions":[{"$type":"excludedPath","isDirectory":true,"path":"/var/app","scopes":["epp","global"]}],"mergePolicy":"merge"},"cloudService":{"enabled":true}}`
	es, err := defender.New(defender.Options{}).Parse(defender.ManagedFile, []byte(js))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"mdatp_managed.json | path | excludedFileExtension | .pdf | linux |  | ",
		"mdatp_managed.json | path | excludedFileName | cp | linux |  | ",
		"mdatp_managed.json | path | excludedPath | /var/app | linux | subfolders | ",
	}, tp.Rows(es))
	mc := `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>PayloadContent</key><array>
	<dict><key>PayloadType</key><string>com.apple.other</string><key>antivirusEngine</key><dict><key>exclusions</key><array><dict><key>$type</key><string>excludedPath</string><key>path</key><string>/not/ours</string></dict></array></dict></dict>
	<dict><key>PayloadType</key><string>com.microsoft.wdav</string><key>antivirusEngine</key><dict><key>exclusions</key><array><dict><key>$type</key><string>excludedPath</string><key>isDirectory</key><false/><key>path</key><string>/Applications/A.app/Contents/MacOS/A</string></dict></array></dict></dict>
	</array></dict></plist>`
	es, err = defender.New(defender.Options{}).Parse(defender.WDAVFile, []byte(mc))
	require.NoError(t, err)
	assert.Equal(t, []string{"com.microsoft.wdav.plist | path | excludedPath | /Applications/A.app/Contents/MacOS/A | mac | file | "}, tp.Rows(es))
}

func TestAllows(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sum := tp.Sum("a")
	tpr := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	exe := core.Subject{Platform: "windows", Path: `C:\Program Files\CrashPlan\CrashPlanService.exe`, PE: true, Digests: hashing.Digests{SHA256: sum},
		Signers: []core.SubjectSigner{{ThumbprintSHA1: tpr, CommonName: "Code42"}}}
	script := exe
	script.PE, script.Path = false, `C:\Program Files\CrashPlan\run.ps1`
	macApple := core.Subject{Platform: "mac", Path: "/Applications/CrashPlan.app/Contents/MacOS/CrashPlan", Digests: hashing.Digests{SHA256: sum},
		Signers: []core.SubjectSigner{{Apple: true, ThumbprintSHA1: tpr}}}
	ind := core.Entry{Kind: core.EntryHash, Type: "FileSha256", Value: sum, Action: "Allowed"}
	with := func(e core.Entry, f func(*core.Entry)) core.Entry { f(&e); return e }
	excl := func(v string) core.Entry {
		return core.Entry{Kind: core.EntryPath, Type: "ExclusionPath", Value: v, Platform: "windows"}
	}
	mpath := func(v string, match edrpolicy.Match) core.Entry {
		return core.Entry{Kind: core.EntryPath, Type: "excludedPath", Value: v, Platform: "mac", Match: match}
	}
	cases := []struct {
		name string
		e    core.Entry
		t    core.Subject
		want bool
	}{
		{"FileSha256 Allowed", ind, exe, true},
		{"FileSha256 Audit", with(ind, func(e *core.Entry) { e.Action = "Audit" }), exe, false},
		{"FileSha256 expired (CSV form)", with(ind, func(e *core.Entry) { e.Expires = "2025-06-30T00:00:00.0Z" }), exe, false},
		{"FileSha256 on a Windows script: PE only", ind, script, false},
		{"FileSha256 on macOS", ind, macApple, true},
		{"certificate indicator", core.Entry{Kind: core.EntryCertificate, Type: "CertificateThumbprint", Value: tpr, Action: "Allowed"}, exe, true},
		{"certificate indicator not on macOS", core.Entry{Kind: core.EntryCertificate, Type: "CertificateThumbprint", Value: tpr, Action: "Allowed"}, macApple, false},
		{"cer upload", core.Entry{Kind: core.EntryCertificate, Type: "cer", Value: tpr}, exe, true},
		{"exclusion file", excl(`C:\Program Files\CrashPlan\CrashPlanService.exe`), exe, true},
		{"exclusion folder covers below", excl(`c:\program files\crashplan`), exe, true},
		{"exclusion env var", excl(`%ProgramFiles%\CrashPlan`), exe, true},
		{"exclusion system drive", excl(`%SystemDrive%\`), exe, true},
		{"exclusion user var not expanded", excl(`%USERPROFILE%\x`), exe, false},
		{"exclusion star one folder", excl(`C:\*\CrashPlan\CrashPlanService.exe`), exe, true},
		{"exclusion question", excl(`C:\Program Files\CrashPlan\CrashPlanServic?.exe`), exe, true},
		{"exclusion sibling", excl(`C:\Program Files\CrashPlan2`), exe, false},
		{"process exclusion never covers", core.Entry{Kind: core.EntryPath, Type: "ExclusionProcess", Value: exe.Path, Platform: "windows"}, exe, false},
		{"extension", core.Entry{Kind: core.EntryPath, Type: "ExclusionExtension", Value: "EXE", Platform: "windows"}, exe, true},
		{"mac file", mpath("/Applications/CrashPlan.app/Contents/MacOS/CrashPlan", "file"), macApple, true},
		{"mac directory", mpath("/Applications/CrashPlan.app", "subfolders"), macApple, true},
		{"mac file is not a directory", mpath("/Applications/CrashPlan.app", "file"), macApple, false},
		{"mac case-sensitive", mpath("/applications/crashplan.app", "subfolders"), macApple, false},
		{"linux entry on mac", with(mpath("/Applications", "subfolders"), func(e *core.Entry) { e.Platform = "linux" }), macApple, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, defender.New(defender.Options{}).Allows(c.e, c.t, now))
		})
	}
}

func TestExpandSystemVars(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{`%ProgramFiles(x86)%\App`, `C:\Program Files (x86)\App`, true},
		{`%windir%\Temp`, `C:\Windows\Temp`, true},
		{`%APPDATA%\App`, `\App`, false},
		{`C:\50%\x`, "", false},
	}
	for _, c := range cases {
		got, ok := defender.ExpandSystemVars(c.in)
		assert.Equal(t, c.ok, ok, c.in)
		if c.ok {
			assert.Equal(t, c.want, got, c.in)
		}
	}
}
