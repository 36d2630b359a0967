package profile

import (
	"errors"
	"fmt"
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
		assert.Equal(t, tc.want, tc.r.Contains(ver(tc.v)), "%q contains %s", tc.r, tc.v)
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
	// generic: no path table, no products, no eras, no version needed, on every OS.
	require.Len(t, all, 2)
	g := all[1]
	assert.Equal(t, "generic", g.Name)
	assert.Equal(t, "builtin:generic", g.Origin)
	assert.Empty(t, g.Paths)
	assert.Empty(t, g.Products)
	assert.Empty(t, g.Signers)
	assert.Empty(t, g.Advice)
	for _, osName := range KnownOSes {
		tb, err := g.PathTable(PathQuery{OS: osName, Version: ver("1.0")})
		require.NoError(t, err)
		assert.Empty(t, tb.Rows, osName)
		pr, err := g.Product("")
		require.NoError(t, err)
		assert.Nil(t, pr)
	}
	_, err = g.Product("crashplan")
	assert.ErrorContains(t, err, "has no products")
}

// pathOf returns the path of the single row with this use and role, failing otherwise.
func pathsOf(tb *Table, role Role, use string) []string {
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
		os      OS
		version string
		role    Role
		use     string
		want    []string
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
		tb, err := p.PathTable(PathQuery{OS: tc.os, Version: ver(tc.version)})
		require.NoError(t, err, "%s %s", tc.os, tc.version)
		assert.Equal(t, tc.want, pathsOf(tb, tc.role, tc.use), "%s %s %s %s", tc.os, tc.version, tc.role, tc.use)
	}
}

func TestCode42Version81IsUnknown(t *testing.T) {
	p := code42(t)
	for _, os := range []OS{"windows", "mac"} {
		_, err := p.PathTable(PathQuery{OS: os, Version: ver("8.1")})
		var ue *UnknownError
		require.True(t, errors.As(err, &ue), "%s: %v", os, err)
		msg := err.Error()
		assert.Contains(t, msg, "version 8.1")
		assert.Contains(t, msg, "--assume-paths 8.0|8.2")
		assert.Contains(t, msg, "candidate table 8.0")
		assert.Contains(t, msg, "candidate table 8.2")
	}
	_, err := p.PathTable(PathQuery{OS: "windows", Version: ver("8.1.3")})
	assert.Contains(t, err.Error(), `C:\Program Files\CrashPlan`)
	assert.Contains(t, err.Error(), `C:\Program Files\Code42`)

	tb, err := p.PathTable(PathQuery{OS: "windows", Version: ver("8.1"), AssumePaths: ver("8.2")})
	require.NoError(t, err)
	require.NotNil(t, tb.Assumed)
	assert.Equal(t, []string{`C:\Program Files\Code42`}, pathsOf(tb, "executable", ""))
	tb, err = p.PathTable(PathQuery{OS: "mac", Version: ver("8.1"), AssumePaths: ver("8.0")})
	require.NoError(t, err)
	assert.Equal(t, []string{"/Applications/CrashPlan.app"}, pathsOf(tb, "executable", ""))
	_, err = p.PathTable(PathQuery{OS: "mac", Version: ver("8.1"), AssumePaths: ver("9.0")})
	assert.ErrorContains(t, err, "not a candidate")

	// Linux paths do not change at 8.0/8.2: no gap.
	_, err = p.PathTable(PathQuery{OS: "linux", Version: ver("8.1")})
	assert.NoError(t, err)
}

func TestCode42MacPerUserUnknown(t *testing.T) {
	p := code42(t)
	_, err := p.PathTable(PathQuery{OS: "mac", Version: ver("10.0"), Install: InstallPerUser})
	var ue *UnknownError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "Mac per-user install table")
	assert.Contains(t, err.Error(), "--profile")
	// Listing every install kind shows the gap without failing.
	tb, err := p.PathTable(PathQuery{OS: "mac", Version: ver("10.0"), Install: InstallAny})
	require.NoError(t, err)
	var whats []string
	for _, g := range tb.Gaps {
		whats = append(whats, g.What)
	}
	assert.Contains(t, whats, "paths")
}

func TestCode42WindowsPerUser(t *testing.T) {
	p := code42(t)
	tb, err := p.PathTable(PathQuery{OS: "windows", Version: ver("8.2"), Install: InstallPerUser})
	require.NoError(t, err)
	assert.Equal(t, []string{
		`C:\Users\<user>\AppData\Local\Programs\Code42`,
		`C:\Users\<user>\AppData\Roaming\Programs\Code42`,
	}, pathsOf(tb, "executable", ""))
	assert.Equal(t, []string{
		`C:\Users\<user>\AppData\Local\CrashPlan\cache`,
		`C:\Users\<user>\AppData\Roaming\CrashPlan\cache`,
	}, pathsOf(tb, "cache", ""))
	tb, err = p.PathTable(PathQuery{OS: "windows", Version: ver("11.0"), Install: InstallPerUser})
	require.NoError(t, err)
	assert.Empty(t, pathsOf(tb, "executable", ""), "11.0 per-user main folder is unknown, not guessed")
	var whats []string
	for _, g := range tb.Gaps {
		whats = append(whats, g.What)
	}
	assert.Contains(t, whats, "per-user-main-app")
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
		for _, n := range p.NotesFor("windows", ver(tc.v)) {
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
		e := p.EraFor(ver(tc.v))
		if tc.era == "" {
			assert.Nil(t, e, tc.v)
		} else {
			require.NotNil(t, e, tc.v)
			assert.Equal(t, tc.era, e.Name, tc.v)
		}
		var teams []string
		for _, s := range p.ExpectedSigners("mac", ver(tc.v)) {
			teams = append(teams, s.TeamID)
		}
		if tc.team == "" {
			assert.Empty(t, teams, tc.v)
		} else {
			assert.Equal(t, []string{tc.team}, teams, tc.v)
		}
	}
	assert.NotEmpty(t, p.UnknownsFor("signer", "windows", ver("11.0")))
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
		assert.Contains(t, []Confidence{ConfidenceVendorDoc, ConfidenceThirdParty, ConfidenceInferred}, r.Confidence, r.Path)
	}
	assert.Equal(t, "000_c8ea74c03d1e87fa.txt; 001_8909b713b88efa39.txt", p.SourceRefs("000,001"))
}

func TestStrictDecoding(t *testing.T) {
	base := `{"schema_version":1,"name":"x","title":"X","sources":[{"id":"s","title":"t","ref":"r","confidence":"vendor-doc"}],"paths":[]}`
	_, err := Parse([]byte(base))
	require.NoError(t, err)
	row := func(fields string) string {
		return strings.Replace(base, `"paths":[]`, `"paths":[{"os":"linux","use":"u","role":"cache","path":"/opt/x/cache","kind":"folder","rule":"scan-exclusion","source":"s","confidence":"vendor-doc"`+fields+`}]`, 1)
	}
	for name, tc := range map[string]struct{ doc, want string }{
		"unknown key":      {strings.Replace(base, `"title":"X"`, `"title":"X","colour":"red"`, 1), `profile: unknown key "colour" (known keys: $schema, advice,`},
		"trailing data":    {base + `{}`, "data after"},
		"schema version":   {strings.Replace(base, `"schema_version":1`, `"schema_version":2`, 1), "schema_version: 2: this edrpolicy reads schema_version 1"},
		"undeclared cite":  {strings.Replace(row(""), `"source":"s"`, `"source":"nope"`, 1), `paths[0].source: "nope" is not declared in sources`},
		"bad range":        {row(`,"versions":"8.x"`), `paths[0].versions: version range "8.x": constraint "8.x" needs an operator`},
		"exec folder rule": {strings.Replace(row(""), `"role":"cache"`, `"role":"executable"`, 1), "paths[0].rule: an executable folder is never a path rule wholesale"},
		"bad confidence":   {strings.Replace(base, `"confidence":"vendor-doc"`, `"confidence":"guess"`, 1), `sources[0].confidence: "guess": want vendor-doc, 3rd-party, inferred, observed`},
		"dotdot":           {strings.Replace(row(""), `/opt/x/cache`, `/opt/../x`, 1), `paths[0].path: "/opt/../x" is empty or contains ..`},
		"wrong type":       {row(`,"versions":8`), "paths[0].versions: want a string, got a number 8"},
		"bool type":        {row(`,"backup_only":"yes"`), "paths[0].backup_only: want a boolean (true or false), got a string"},
		"not an array":     {strings.Replace(base, `"paths":[]`, `"paths":{}`, 1), "paths: want an array, got an object"},
		"row not object":   {strings.Replace(base, `"paths":[]`, `"paths":["x"]`, 1), "paths[0]: want an object, got a string"},
	} {
		_, err := Parse([]byte(tc.doc))
		assert.ErrorContains(t, err, tc.want, name)
	}
}

// Every loader error names the row and the key, unknown keys included, wherever they are.
func TestErrorsNameTheRow(t *testing.T) {
	rows := make([]string, 5)
	for i := range rows {
		rows[i] = fmt.Sprintf(`{"os":"linux","use":"u%d","role":"cache","path":"/opt/x/c%d","kind":"folder","rule":"scan-exclusion","source":"s","confidence":"vendor-doc"}`, i, i)
	}
	doc := func(rs []string, extra string) []byte {
		return []byte(`{"schema_version":1,"name":"x","title":"X","sources":[{"id":"s","title":"t","ref":"r","confidence":"vendor-doc"}],"paths":[` + strings.Join(rs, ",") + `]` + extra + `}`)
	}
	for _, tc := range []struct {
		row       int
		from, to  string
		extra     string
		want      string
		notInWant string
	}{
		{3, `"path":`, `"pth":`, "", `paths[3]: unknown key "pth" (known keys:`, "paths[0]"},
		{1, `"os":"linux"`, `"os":"linux","colour":1`, "", `paths[1]: unknown key "colour"`, "paths[3]"},
		{4, `"rule":"scan-exclusion"`, `"rule":"always"`, "", `paths[4].rule: "always": want never, scan-exclusion or on-request`, "paths[3]"},
		{2, `"os":"linux"`, `"os":"linux","versions":">=1 <x"`, "", `paths[2].versions: version range ">=1 <x"`, ""},
		{0, `"os":"linux"`, `"os":"linux","versions":[1]`, "", `paths[0].versions: want a string, got an array`, ""},
		{0, "", "", `,"ports":[{"port":1,"protocol":"TCP","component":"app","direction":"outbound","from":"a","to":"b","description":"d","status":"required","alternatives":[2,"x"],"source":"s","confidence":"vendor-doc"}]`, `ports[0].alternatives[1]: want a whole number, got a string`, ""},
		{0, "", "", `,"eras":[{"name":"e","title":"E","versions":">=1","products":["nope"],"source":"s","confidence":"vendor-doc","oops":true}]`, `eras[0]: unknown key "oops"`, ""},
		{0, "", "", `,"advice":[{"topic":"exceptions","summary":"s","quote":"q","source":"s","confidence":"vendor-doc","qoute":"x"}]`, `advice[0]: unknown key "qoute"`, ""},
		{0, "", "", `,"signers":[{"os":"mac","team_id":"T","thumbprints":["abc"],"source":"s","confidence":"observed"}]`, `signers[0].thumbprints[0]: "abc": want a SHA-1 (40) or SHA-256 (64) hex thumbprint`, ""},
	} {
		rs := append([]string(nil), rows...)
		if tc.from != "" {
			rs[tc.row] = strings.Replace(rs[tc.row], tc.from, tc.to, 1)
		}
		_, err := Parse(doc(rs, tc.extra))
		require.Error(t, err, tc.want)
		assert.Contains(t, err.Error(), tc.want)
		if tc.notInWant != "" {
			assert.NotContains(t, err.Error(), tc.notInWant)
		}
	}
	// Several faults: every one is reported.
	rs := append([]string(nil), rows...)
	rs[1] = strings.Replace(rs[1], `"kind":"folder"`, `"kind":"dir"`, 1)
	rs[3] = strings.Replace(rs[3], `"path":`, `"pth":`, 1)
	_, err := Parse(doc(rs, ""))
	assert.ErrorContains(t, err, `paths[1].kind: "dir": want folder or file`)
	assert.ErrorContains(t, err, `paths[3]: unknown key "pth"`)
}

func TestConfidenceLevels(t *testing.T) {
	for _, c := range []string{"vendor-doc", "3rd-party", "inferred", "observed"} {
		doc := `{"schema_version":1,"name":"x","title":"X","sources":[{"id":"s","title":"t","ref":"r","confidence":"` + c + `"}],
		"paths":[{"os":"linux","use":"u","role":"cache","path":"/opt/x/cache","kind":"folder","rule":"scan-exclusion","source":"s","confidence":"` + c + `"}]}`
		_, err := Parse([]byte(doc))
		assert.NoError(t, err, c)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(f, []byte(`{"schema_version":1,"nme":"x"}`), 0o600))
	_, err := Load(f)
	assert.ErrorContains(t, err, f)
	assert.ErrorContains(t, err, `unknown key "nme"`)
	_, err = Resolve(filepath.Join(dir, "missing.json"))
	assert.Error(t, err)
}

func TestSourceLabels(t *testing.T) {
	p := &Profile{Sources: []Source{
		{ID: "000", Title: "Best practices for using CrashPlan with EDR software (support.code42.com; not Incydr)", Ref: "000_c8ea74c03d1e87fa.txt"},
		{ID: "kb", Title: "A KB article", Ref: "https://example.com/kb/1"},
		{ID: "seed", Title: "", Ref: "002_0123456789abcdef.txt"},
	}}
	assert.Equal(t, "000_c8ea74c03d1e87fa.txt: Best practices for using CrashPlan with EDR software; https://example.com/kb/1; 002_0123456789abcdef.txt; missing",
		p.SourceLabels("000, kb, seed, missing"))
	assert.Equal(t, "000_c8ea74c03d1e87fa.txt; https://example.com/kb/1", p.SourceRefs("000, kb"), "policy.json keeps the bare references")
}
