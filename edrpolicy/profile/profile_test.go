package profile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"8.2", "8.2", false},
		{"11.0.1.27", "11.0.1.27", false},
		{"v10.4.1", "10.4.1", false},
		{"8.2.3 build 55", "8.2.3", false},
		{"6.8.2-rc1", "6.8.2", false},
		{"", "", true},
		{"x.1", "", true},
		{"8..2", "", true},
	} {
		v, err := ParseVersion(tc.in)
		if tc.err {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, v.String(), tc.in)
	}
}

func TestRangeContains(t *testing.T) {
	for _, tc := range []struct {
		r    Range
		v    string
		want bool
	}{
		{"<=8.0", "8.0", true},
		{"<=8.0", "8.0.5", true},
		{"<=8.0", "7.9", true},
		{"<=8.0", "8.1", false},
		{">=8.2", "8.1.9", false},
		{">=8.2", "8.2", true},
		{">=8.2 <11.0", "10.99.1", true},
		{">=8.2 <11.0", "11.0", false},
		{">=11.0", "11.0.0.1", true},
		{"<=6.8.1", "6.8.1.7", true},
		{"<=6.8.1", "6.8.2", false},
		{">=6.8.2", "6.8.2", true},
		{">=6.8.2", "6.8.1", false},
		{"<=7.0", "7.0.3", true},
		{"<=7.0", "7.1", false},
		{"<5.4 !=4.8 !=4.9", "5.3.9", true},
		{"<5.4 !=4.8 !=4.9", "5.4", false},
		{"<5.4 !=4.8 !=4.9", "4.8.2", false},
		{"<5.4 !=4.8 !=4.9", "4.9", false},
		{"<5.4 !=4.8 !=4.9", "4.7", true},
		{"=8.2.3", "8.2.3", true},
		{"=8.2.3", "8.2.4", false},
		{"", "1.0", true},
		{"*", "99", true},
	} {
		assert.Equal(t, tc.want, tc.r.Contains(MustVersion(tc.v)), "%q contains %s", tc.r, tc.v)
	}
	assert.Error(t, Range("8.0").Validate())
	assert.Error(t, Range(">=8.x").Validate())
	assert.Equal(t, "8.2 and later, before 11.0", Range(">=8.2 <11.0").Describe())
}

func code42(t *testing.T) *Profile {
	t.Helper()
	p, err := BuiltIn("code42")
	require.NoError(t, err)
	return p
}

func TestBuiltIns(t *testing.T) {
	all, err := BuiltIns()
	require.NoError(t, err)
	require.NotEmpty(t, all)
	assert.Equal(t, "code42", all[0].Name)
	assert.Equal(t, "builtin:code42", all[0].Origin)
	_, err = BuiltIn("nope")
	assert.ErrorIs(t, err, ErrNotFound)
	p, err := Resolve("code42")
	require.NoError(t, err)
	assert.Equal(t, "code42", p.Name)
}

// pathOf returns the path of the single row with this use and role, failing otherwise.
func pathsOf(tb *Table, role string, use string) []string {
	var out []string
	for _, r := range tb.Rows {
		if r.Role == role && (use == "" || strings.HasPrefix(r.Use, use)) {
			out = append(out, r.Path)
		}
	}
	return out
}

func TestCode42VersionBoundaries(t *testing.T) {
	p := code42(t)
	for _, tc := range []struct {
		os, version, role, use string
		want                   []string
	}{
		{"windows", "8.0", "executable", "Main application", []string{`C:\Program Files\CrashPlan`}},
		{"windows", "8.0.9", "executable", "Main application", []string{`C:\Program Files\CrashPlan`}},
		{"windows", "8.2", "executable", "Main application", []string{`C:\Program Files\Code42`}},
		{"windows", "10.4.1", "executable", "Main application", []string{`C:\Program Files\Code42`}},
		{"windows", "11.0", "executable", "Main application", []string{`C:\Program Files\CrashPlan`}},
		{"mac", "8.0", "executable", "Main application", []string{"/Applications/CrashPlan.app"}},
		{"mac", "8.2", "executable", "Main application", []string{"/Applications/Code42.app"}},
		{"mac", "10.9", "executable", "Main application", []string{"/Applications/Code42.app"}},
		{"mac", "11.0", "executable", "Main application", []string{"/Applications/CrashPlan.app"}},
		{"mac", "8.0", "config", "Code42 app configuration file", []string{"/Library/LaunchDaemons/com.crashplan.engine.plist"}},
		{"mac", "8.2", "config", "Code42 app configuration file", []string{"/Library/LaunchDaemons/com.code42.service.plist"}},
		{"mac", "11.1", "config", "LaunchDaemon", []string{"/Library/LaunchDaemons/com.crashplan.service.plist"}},
		{"linux", "6.8.1", "logs", "UI log files", []string{"/usr/local/crashplan/log"}},
		{"linux", "6.8.2", "logs", "UI log files", []string{"~/.code42/logs"}},
		{"linux", "8.1", "executable", "", []string{"/usr/local/crashplan"}},
		{"linux", "11.0", "config", "Code42 app configuration file", []string{"/usr/local/crashplan/bin/run.conf"}},
		{"windows", "11.0", "cache", "", []string{`C:\ProgramData\CrashPlan\cache`}},
		{"windows", "8.2", "archive", "", []string{`C:\ProgramData\CrashPlan\backupArchives`}},
		{"mac", "11.0", "identity", "", []string{"/Library/Application Support/CrashPlan/.identity"}},
	} {
		tb, err := p.PathTable(PathQuery{OS: tc.os, Version: MustVersion(tc.version)})
		require.NoError(t, err, "%s %s", tc.os, tc.version)
		assert.Equal(t, tc.want, pathsOf(tb, tc.role, tc.use), "%s %s %s %s", tc.os, tc.version, tc.role, tc.use)
	}
}

func TestCode42Version81IsUnknown(t *testing.T) {
	p := code42(t)
	for _, os := range []string{"windows", "mac"} {
		_, err := p.PathTable(PathQuery{OS: os, Version: MustVersion("8.1")})
		var ue *UnknownError
		require.True(t, errors.As(err, &ue), "%s: %v", os, err)
		msg := err.Error()
		assert.Contains(t, msg, "version 8.1")
		assert.Contains(t, msg, "--assume-paths 8.0|8.2")
		assert.Contains(t, msg, "candidate table 8.0")
		assert.Contains(t, msg, "candidate table 8.2")
	}
	_, err := p.PathTable(PathQuery{OS: "windows", Version: MustVersion("8.1.3")})
	assert.Contains(t, err.Error(), `C:\Program Files\CrashPlan`)
	assert.Contains(t, err.Error(), `C:\Program Files\Code42`)

	tb, err := p.PathTable(PathQuery{OS: "windows", Version: MustVersion("8.1"), AssumePaths: MustVersion("8.2")})
	require.NoError(t, err)
	require.NotNil(t, tb.Assumed)
	assert.Equal(t, []string{`C:\Program Files\Code42`}, pathsOf(tb, "executable", ""))
	tb, err = p.PathTable(PathQuery{OS: "mac", Version: MustVersion("8.1"), AssumePaths: MustVersion("8.0")})
	require.NoError(t, err)
	assert.Equal(t, []string{"/Applications/CrashPlan.app"}, pathsOf(tb, "executable", ""))
	_, err = p.PathTable(PathQuery{OS: "mac", Version: MustVersion("8.1"), AssumePaths: MustVersion("9.0")})
	assert.ErrorContains(t, err, "not a candidate")

	// Linux paths do not change at 8.0/8.2: no gap.
	_, err = p.PathTable(PathQuery{OS: "linux", Version: MustVersion("8.1")})
	assert.NoError(t, err)
}

func TestCode42MacPerUserUnknown(t *testing.T) {
	p := code42(t)
	_, err := p.PathTable(PathQuery{OS: "mac", Version: MustVersion("10.0"), Install: InstallPerUser})
	var ue *UnknownError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "Mac per-user install table")
	assert.Contains(t, err.Error(), "--profile")
	// Listing every install kind shows the gap without failing.
	tb, err := p.PathTable(PathQuery{OS: "mac", Version: MustVersion("10.0"), Install: InstallAny})
	require.NoError(t, err)
	var whats []string
	for _, g := range tb.Gaps {
		whats = append(whats, g.What)
	}
	assert.Contains(t, whats, "paths")
}

func TestCode42WindowsPerUser(t *testing.T) {
	p := code42(t)
	tb, err := p.PathTable(PathQuery{OS: "windows", Version: MustVersion("8.2"), Install: InstallPerUser})
	require.NoError(t, err)
	assert.Equal(t, []string{
		`C:\Users\<user>\AppData\Local\Programs\Code42`,
		`C:\Users\<user>\AppData\Roaming\Programs\Code42`,
	}, pathsOf(tb, "executable", ""))
	assert.Equal(t, []string{
		`C:\Users\<user>\AppData\Local\CrashPlan\cache`,
		`C:\Users\<user>\AppData\Roaming\CrashPlan\cache`,
	}, pathsOf(tb, "cache", ""))
	tb, err = p.PathTable(PathQuery{OS: "windows", Version: MustVersion("11.0"), Install: InstallPerUser})
	require.NoError(t, err)
	assert.Empty(t, pathsOf(tb, "executable", ""), "11.0 per-user main folder is unknown, not guessed")
	var whats []string
	for _, g := range tb.Gaps {
		whats = append(whats, g.What)
	}
	assert.Contains(t, whats, "per-user-main-app")
}

func TestCode42Ports(t *testing.T) {
	p := code42(t)
	has := func(rows []PortRow, port int, comp string) bool {
		for _, r := range rows {
			if r.Port == port && r.Component == comp {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		version string
		port    int
		comp    string
		want    bool
	}{
		{"7.0", 4286, "server", true},
		{"7.0.2", 4286, "server", true},
		{"7.1", 4286, "server", false},
		{"", 4286, "server", true},
		{"6.4", 4285, "server", true}, // browsers
		{"11.0", 4287, "app", true},
		{"11.0", 443, "app", true},
		{"11.0", 4244, "app", true},
		{"11.0", 4282, "app", true},
		{"11.0", 4280, "server", true},
	} {
		rows := p.PortsFor(PortQuery{Version: MustVersion(tc.version)})
		assert.Equal(t, tc.want, has(rows, tc.port, tc.comp), "%s %d %s", tc.version, tc.port, tc.comp)
	}
	count6585 := func(v string) int {
		n := 0
		for _, r := range p.PortsFor(PortQuery{Version: MustVersion(v), Component: "server"}) {
			if r.Port == 4285 {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 1, count6585("6.4"))
	assert.Equal(t, 2, count6585("6.5"))
	for _, r := range p.Ports {
		if r.Port == 4282 {
			assert.Equal(t, "unsupported", r.Status)
			assert.Contains(t, r.Description, "2020-02-04")
		}
	}
}

func TestCode42CloudNotes(t *testing.T) {
	p := code42(t)
	for _, tc := range []struct {
		v     string
		cloud bool // the "cannot connect" note applies
	}{
		{"4.7", true}, {"4.8", false}, {"4.8.1", false}, {"4.9", false}, {"5.0", true}, {"5.3.9", true}, {"5.4", false}, {"11.0", false},
	} {
		got := false
		for _, n := range p.NotesFor("windows", MustVersion(tc.v)) {
			if strings.Contains(n.Message, "cannot connect") {
				got = true
			}
		}
		assert.Equal(t, tc.cloud, got, tc.v)
	}
}

func TestCode42ErasAndSigners(t *testing.T) {
	p := code42(t)
	for _, tc := range []struct{ v, era, team string }{
		{"8.0", "crashplan-legacy", ""},
		{"8.1", "", ""},
		{"8.2", "code42", "9YV9435DHD"},
		{"10.4", "code42", "9YV9435DHD"},
		{"11.0", "crashplan", "UGHXR79U6M"},
	} {
		e := p.EraFor(MustVersion(tc.v))
		if tc.era == "" {
			assert.Nil(t, e, tc.v)
		} else {
			require.NotNil(t, e, tc.v)
			assert.Equal(t, tc.era, e.Name, tc.v)
		}
		var teams []string
		for _, s := range p.ExpectedSigners("mac", MustVersion(tc.v)) {
			teams = append(teams, s.TeamID)
		}
		if tc.team == "" {
			assert.Empty(t, teams, tc.v)
		} else {
			assert.Equal(t, []string{tc.team}, teams, tc.v)
		}
	}
	assert.NotEmpty(t, p.UnknownsFor("signer", "windows", MustVersion("11.0")))
}

func TestCode42Products(t *testing.T) {
	p := code42(t)
	for name, backup := range map[string]bool{
		"crashplan": true, "incydr-basic": true, "incydr-advanced": true, "incydr-gov-f1": true,
		"incydr-professional": false, "incydr-enterprise": false, "incydr-horizon": false, "incydr-gov-f2": false,
	} {
		pr, err := p.Product(name)
		require.NoError(t, err, name)
		assert.Equal(t, backup, pr.Backup, name)
	}
	_, err := p.Product("instructor")
	assert.ErrorContains(t, err, "use one of crashplan")
	pr, err := p.Product("")
	require.NoError(t, err)
	assert.Equal(t, "crashplan", pr.Name)
}

func TestEveryRowCites(t *testing.T) {
	p := code42(t)
	for _, r := range p.Paths {
		assert.NotEmpty(t, p.SourceRefs(r.Source), r.Path)
		assert.Contains(t, []string{"vendor-doc", "3rd-party"}, r.Confidence, r.Path)
	}
	assert.Equal(t, "000_c8ea74c03d1e87fa.txt; 001_8909b713b88efa39.txt", p.SourceRefs("000,001"))
}

func TestStrictDecoding(t *testing.T) {
	base := `{"schema_version":1,"name":"x","title":"X","sources":[{"id":"s","title":"t","ref":"r","confidence":"vendor-doc"}],"paths":[]}`
	_, err := Parse([]byte(base))
	require.NoError(t, err)
	for name, tc := range map[string]struct{ doc, want string }{
		"unknown key":      {strings.Replace(base, `"title":"X"`, `"title":"X","colour":"red"`, 1), `unknown field "colour"`},
		"trailing data":    {base + `{}`, "data after"},
		"schema version":   {strings.Replace(base, `"schema_version":1`, `"schema_version":2`, 1), "schema_version is 2"},
		"undeclared cite":  {strings.Replace(base, `"paths":[]`, `"paths":[{"os":"linux","use":"u","role":"cache","path":"/opt/x/cache","kind":"folder","rule":"scan-exclusion","source":"nope","confidence":"vendor-doc"}]`, 1), `source "nope" is not declared`},
		"bad range":        {strings.Replace(base, `"paths":[]`, `"paths":[{"os":"linux","versions":"8.x","use":"u","role":"cache","path":"/opt/x/cache","kind":"folder","rule":"scan-exclusion","source":"s","confidence":"vendor-doc"}]`, 1), "needs an operator"},
		"exec folder rule": {strings.Replace(base, `"paths":[]`, `"paths":[{"os":"linux","use":"u","role":"executable","path":"/opt/x","kind":"folder","rule":"scan-exclusion","source":"s","confidence":"vendor-doc"}]`, 1), "never a path rule wholesale"},
		"bad confidence":   {strings.Replace(base, `"confidence":"vendor-doc"`, `"confidence":"guess"`, 1), `confidence "guess"`},
		"dotdot":           {strings.Replace(base, `"paths":[]`, `"paths":[{"os":"linux","use":"u","role":"cache","path":"/opt/../x","kind":"folder","rule":"scan-exclusion","source":"s","confidence":"vendor-doc"}]`, 1), "contains .."},
	} {
		_, err := Parse([]byte(tc.doc))
		assert.ErrorContains(t, err, tc.want, name)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(f, []byte(`{"schema_version":1,"nme":"x"}`), 0o600))
	_, err := Load(f)
	assert.ErrorContains(t, err, f)
	assert.ErrorContains(t, err, `unknown field "nme"`)
	_, err = Resolve(filepath.Join(dir, "missing.json"))
	assert.Error(t, err)
}
