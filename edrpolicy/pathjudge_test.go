package edrpolicy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/internal/pathcases"
)

// Every row of the shared table: refused (with the expected reason) or accepted.
func TestJudgePathRuleTable(t *testing.T) {
	for _, c := range pathcases.All() {
		got := CheckPathRule(c.Platform, c.Value)
		if c.Refused {
			if assert.NotEmpty(t, got, "%s %s %q: want refused", c.Family, c.Platform, c.Value) {
				assert.Contains(t, got, c.Reason, "%s %s %q", c.Family, c.Platform, c.Value)
			}
		} else {
			assert.Empty(t, got, "%s %s %q: want accepted", c.Family, c.Platform, c.Value)
		}
	}
}

// The normalized forms named in messages and returned by NormalizePathRule.
func TestNormalizePathRule(t *testing.T) {
	for _, tc := range []struct {
		platform profile.OS
		value    string
		want     []string
		why      string
	}{
		{"windows", `C:/Users//x/./AppData\Local\Temp\`, []string{`c:\users\x\appdata\local\temp`}, ""},
		{"windows", `%SystemDrive%\.`, []string{`c:\`}, ""},
		{"windows", `%ProgramFiles%\CrashPlan`, []string{`c:\program files\crashplan`, `c:\program files (x86)\crashplan`, `c:\program files (arm)\crashplan`}, ""},
		{"windows", `%HOMEDRIVE%%HOMEPATH%`, []string{`c:\`, `c:\users\*`, `c:\windows\system32`}, ""},
		{"windows", `c:\users\public\..\all users`, []string{`c:\programdata`}, ""},
		{"windows", `C:\Documents and Settings\Bob\Application Data\X`, []string{`c:\users\bob\appdata\roaming\x`}, ""},
		{"windows", `C:\Windows.\Temp \x..`, []string{`c:\windows\temp\x`}, ""},
		{"windows", `C:\Users\<user>\AppData`, []string{`c:\users\*\appdata`}, ""},
		{"windows", `C:\PROGRA~1`, nil, "an 8.3 short name (PROGRA~1): write the long name"},
		{"windows", `\\localhost\c$\x`, nil, `a UNC path (\\host\share): a network or admin-share spelling can name a local drive; write the local drive path`},
		{"windows", `%USERNAME%`, nil, "the environment variable %USERNAME% is not one the guardrails expand and judge: write the folder it stands for"},
		{"mac", `/System/Volumes/Data/private/tmp/X`, []string{`/tmp/x`}, ""},
		{"mac", `/tmp/../Users/x`, []string{`/users/x`, `/private/users/x`}, ""},
		{"mac", `/Volumes/Macintosh HD/Applications/`, []string{`/volumes/macintosh hd/applications`, `/applications`}, ""},
		{"mac", `~/Library`, []string{`/users/*/library`, `/var/root/library`}, ""},
		{"mac", "/Appl\u200cications", []string{`/applications`}, ""},
		{"linux", `/bin/../tmp`, []string{`/tmp`, `/var/tmp`}, ""},
		{"linux", `/Usr/Local/`, []string{`/Usr/Local`}, ""},
		{"linux", `$HOME/.code42`, []string{`/home/*/.code42`, `/root/.code42`}, ""},
		{"linux", `/..`, nil, `".." climbs above the root`},
		{"bsd", `/x`, nil, `platform "bsd" is not windows, mac or linux: the path cannot be judged`},
	} {
		got, why := NormalizePathRule(tc.platform, tc.value)
		assert.Equal(t, tc.want, got, "%s %q", tc.platform, tc.value)
		assert.Equal(t, tc.why, why, "%s %q", tc.platform, tc.value)
	}
}

// A refusal names the folder it judged when the value spells it otherwise.
func TestJudgePathRuleNamesTheForm(t *testing.T) {
	assert.Equal(t, `a drive root (judged as c:\)`, CheckPathRule("windows", `%SystemDrive%\`))
	assert.Equal(t, `the whole of /Applications (judged as /applications)`, CheckPathRule("mac", `/System/Volumes/Data/Applications`))
	assert.Equal(t, `the whole of Program Files`, CheckPathRule("windows", `C:\Program Files\`))
	assert.Equal(t, `the whole of Program Files (its wildcards can name C:\Program Files)`, CheckPathRule("windows", `C:\Prog*`))
	assert.Equal(t, `a temp folder (judged as c:\windows\temp\x)`, CheckPathRule("windows", `C:\Windows.\Temp\x`))
}

// The host check is an option, called only for rules of the host's platform, with the
// normalized value in its own spelling; the pure judgment never stats anything.
func TestJudgePathRuleHostCheck(t *testing.T) {
	var asked []string
	g := GuardrailOptions{HostOS: "linux", HostCheck: func(p string) string {
		asked = append(asked, p)
		if p == "/srv2/Shared" {
			return "a world-writable folder on this machine"
		}
		return ""
	}}
	assert.Equal(t, "a world-writable folder on this machine", JudgePathRule("linux", "/srv2/x/../Shared/", g))
	assert.Equal(t, "", JudgePathRule("linux", "/srv2/*/Shared", g), "a wildcard is not a folder on this machine")
	assert.Equal(t, "", JudgePathRule("mac", "/srv2/Shared", g), "a mac rule says nothing about this linux machine")
	assert.Equal(t, "the whole of /usr", JudgePathRule("linux", "/usr", g), "refused before any host check")
	assert.Equal(t, []string{"/srv2/Shared"}, asked)

	dir, err := os.MkdirTemp(".", "ww-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	dir, err = filepath.Abs(dir)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o777))
	assert.Equal(t, "a world-writable folder on this machine", HostWorldWritable(dir))
	require.NoError(t, os.Chmod(dir, 0o755))
	assert.Equal(t, "", HostWorldWritable(dir))
	assert.Equal(t, "", HostWorldWritable(filepath.Join(dir, "missing")))
	assert.Equal(t, "", CheckPathRule("linux", "/opt/"+strings.Repeat("x", 3)), "CheckPathRule reads no file system")
}

// Limits: a value too long, too deep or expanding to too many folders is refused, not judged.
func TestJudgePathRuleBounds(t *testing.T) {
	assert.Contains(t, CheckPathRule("linux", "/opt/"+strings.Repeat("a", maxPathValue)), "longer than")
	assert.Contains(t, CheckPathRule("linux", "/opt"+strings.Repeat("/a", maxPathSegments+1)), "folder levels")
	assert.Contains(t, CheckPathRule("windows", strings.Repeat(`%TEMP%`, 4)), "more than 64 folders")
	assert.Equal(t, "", CheckPathRule("linux", "/opt"+strings.Repeat("/a", maxPathSegments-1)))
}

func ExampleNormalizePathRule() {
	forms, why := NormalizePathRule("windows", `%ProgramFiles%\CrashPlan\.\`)
	fmt.Println(forms, why == "")
	fmt.Println(CheckPathRule("windows", `%ProgramFiles%\..`))
	fmt.Println(CheckPathRule("mac", `/System/Volumes/Data/private/tmp/x`))
	// Output:
	// [c:\program files\crashplan c:\program files (x86)\crashplan c:\program files (arm)\crashplan] true
	// a drive root (judged as c:\)
	// a temp and world-writable folder (judged as /tmp/x)
}
