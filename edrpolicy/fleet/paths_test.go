package fleet

import (
	"testing"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/stretchr/testify/assert"
)

func TestEndpointPath(t *testing.T) {
	for _, tc := range []struct {
		os           profile.OS
		in           string
		display, key string
		err          string
	}{
		{"windows", `C:\Program Files\CrashPlan\CrashPlanService.exe`, `C:\Program Files\CrashPlan\CrashPlanService.exe`, `c:\program files\crashplan\crashplanservice.exe`, ""},
		{"windows", `c:/program files/CRASHPLAN//./x.exe`, `C:\program files\CRASHPLAN\x.exe`, `c:\program files\crashplan\x.exe`, ""},
		{"windows", `C:\Users\alice\AppData\Local\Programs\Code42\a.exe`, `C:\Users\*\AppData\Local\Programs\Code42\a.exe`, `c:\users\*\appdata\local\programs\code42\a.exe`, ""},
		{"windows", `C:\USERS\Bob\AppData\x.dll`, `C:\USERS\*\AppData\x.dll`, `c:\users\*\appdata\x.dll`, ""},
		{"windows", `C:\Program Files\CrashPlan\..\CrashPlan\a.exe`, `C:\Program Files\CrashPlan\a.exe`, `c:\program files\crashplan\a.exe`, ""},
		{"windows", `C:\..\a.exe`, "", "", "climbs above"},
		{"windows", `Program Files\a.exe`, "", "", "not an absolute Windows path"},
		{"windows", `\\server\share\a.exe`, "", "", "not an absolute Windows path"},
		{"windows", `C:\`, "", "", "names a root"},
		{"windows", "C:\\a\x00b", "", "", "NUL"},
		{"mac", "/Applications/CrashPlan.app/Contents/MacOS/CrashPlan", "/Applications/CrashPlan.app/Contents/MacOS/CrashPlan", "/applications/crashplan.app/contents/macos/crashplan", ""},
		{"mac", "/Users/alice/Library/x", "/Users/*/Library/x", "/users/*/library/x", ""},
		{"mac", "relative/x", "", "", "not absolute"},
		{"linux", "/usr/local/crashplan/bin/CrashPlanService", "/usr/local/crashplan/bin/CrashPlanService", "/usr/local/crashplan/bin/CrashPlanService", ""},
		{"linux", "/home/bob/.code42/x", "/home/*/.code42/x", "/home/*/.code42/x", ""},
		{"linux", "/Home/bob/x", "/Home/bob/x", "/Home/bob/x", ""},
		{"linux", "", "", "", "empty"},
	} {
		d, k, err := endpointPath(tc.os, tc.in)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, "%s %q", tc.os, tc.in)
			continue
		}
		if assert.NoError(t, err, tc.in) {
			assert.Equal(t, tc.display, d, tc.in)
			assert.Equal(t, tc.key, k, tc.in)
		}
	}
}

func TestNormVersion(t *testing.T) {
	for in, want := range map[string]string{"11.1.0.0": "11.1.0", "11.1.0": "11.1.0", "11.1.0.5": "11.1.0.5", "11.1": "11.1", "v8.2.0.0.0": "8.2.0", "garbage": "", "": ""} {
		assert.Equal(t, want, normVersion(in), in)
	}
}
