package profile

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var incydrProducts = []string{"incydr-basic", "incydr-advanced", "incydr-gov-f1", "incydr-professional", "incydr-enterprise", "incydr-horizon", "incydr-gov-f2"}

// The era depends on the product line and the version (products × versions × OS).
func TestCode42ErasByProduct(t *testing.T) {
	p := code42(t)
	type want struct{ era, team string }
	crashplan := map[string]want{
		"6.8": {"crashplan-legacy", ""}, "8.0": {"crashplan-legacy", ""}, "8.0.9": {"crashplan-legacy", ""},
		"8.1": {"", ""}, "8.1.4": {"", ""},
		"8.2": {"code42", "9YV9435DHD"}, "10.4.1": {"code42", "9YV9435DHD"},
		"11.0": {"crashplan", "UGHXR79U6M"}, "11.1": {"crashplan", "UGHXR79U6M"}, "12.3": {"crashplan", "UGHXR79U6M"},
	}
	incydr := map[string]want{
		"6.8": {"", ""}, "8.0": {"", ""}, "8.1": {"", ""},
		"8.2": {"code42", "9YV9435DHD"}, "10.4.1": {"code42", "9YV9435DHD"},
		"11.0": {"code42", "9YV9435DHD"}, "11.1": {"code42", "9YV9435DHD"}, "11.9.2": {"code42", "9YV9435DHD"},
		"12.0": {"", ""}, "12.3": {"", ""},
	}
	for _, prod := range append([]string{"crashplan", ""}, incydrProducts...) {
		table := crashplan
		if strings.HasPrefix(prod, "incydr") {
			table = incydr
		}
		for v, w := range table {
			e := p.EraOf(prod, ver(v))
			if w.era == "" {
				assert.Nil(t, e, "%s %s", prod, v)
			} else if assert.NotNil(t, e, "%s %s", prod, v) {
				assert.Equal(t, w.era, e.Name, "%s %s", prod, v)
			}
			for _, osName := range []OS{"mac", "windows", "linux"} {
				var teams []string
				for _, s := range p.SignersFor(osName, prod, ver(v)) {
					teams = append(teams, s.TeamID)
				}
				if w.team == "" || osName != "mac" {
					assert.Empty(t, teams, "%s %s %s", prod, v, osName)
				} else {
					assert.Equal(t, []string{w.team}, teams, "%s %s %s", prod, v, osName)
				}
			}
			// Where no source gives the era of an Incydr build, it is an unknown, named.
			gaps := p.UnknownsOf("era", "mac", prod, ver(v))
			assert.Equal(t, strings.HasPrefix(prod, "incydr") && w.era == "", len(gaps) == 1, "%s %s", prod, v)
		}
	}
	// The default product's era is CrashPlan's (EraFor keeps its meaning).
	assert.Equal(t, "crashplan", p.EraFor(ver("11.1")).Name)
	assert.Len(t, p.ErasOf("crashplan"), 3)
	assert.Len(t, p.ErasOf("incydr-basic"), 1)
}

// Seed 000's tables are not for Incydr and seed 001's lost their cells: every Incydr query of
// the path table is an error naming the gap and the Incydr agent note, on every OS, version
// and install kind; with the caller's own install paths the table is empty, never CrashPlan's.
func TestCode42IncydrPathsUnknown(t *testing.T) {
	p := code42(t)
	for _, prod := range incydrProducts {
		for _, osName := range []OS{"windows", "mac", "linux"} {
			for _, v := range []string{"", "8.0", "8.1", "8.2", "10.4", "11.1", "12.0"} {
				for _, inst := range []string{InstallAllUsers, InstallPerUser, InstallAny} {
					q := PathQuery{OS: osName, Version: ver(v), Product: prod, Install: inst}
					_, err := p.PathTable(q)
					var ue *UnknownError
					require.ErrorAs(t, err, &ue, "%s %s %s %s", prod, osName, v, inst)
					assert.Equal(t, prod, ue.Product)
					msg := err.Error()
					assert.Contains(t, msg, "product "+prod)
					assert.Contains(t, msg, "no source gives the Incydr path tables")
					assert.Contains(t, msg, "Code42-AAT")
					assert.Contains(t, msg, "14827724068247")
					q.OwnInstallPaths = true
					tb, err := p.PathTable(q)
					require.NoError(t, err)
					assert.Empty(t, tb.Rows)
					require.NotNil(t, tb.Bridged)
					assert.Equal(t, "paths", tb.Bridged.What)
				}
			}
		}
	}
	// CrashPlan keeps its tables; the Incydr gap is not among its gaps.
	for _, osName := range []OS{"windows", "mac", "linux"} {
		tb, err := p.PathTable(PathQuery{OS: osName, Version: ver("11.1"), Product: "crashplan", Install: InstallAny})
		require.NoError(t, err)
		assert.NotEmpty(t, tb.Rows)
		for _, g := range tb.Gaps {
			assert.NotContains(t, g.Message, "Incydr path tables")
		}
	}
	// The 8.1 gap with candidates still wins over OwnInstallPaths for CrashPlan.
	_, err := p.PathTable(PathQuery{OS: "windows", Version: ver("8.1"), Product: "crashplan", OwnInstallPaths: true})
	assert.ErrorContains(t, err, "--assume-paths 8.0|8.2")
}

// Archive rows come from version-4 documentation, not from seed 000: inferred, citing it, and
// the Windows XP row bounded to its era.
func TestCode42ArchiveRows(t *testing.T) {
	p := code42(t)
	n := 0
	for _, r := range p.Paths {
		if r.Role != RoleArchive {
			continue
		}
		n++
		assert.Equal(t, ConfidenceInferred, r.Confidence, r.Path)
		assert.Contains(t, splitList(r.Source)[0], "c42-", r.Path)
		assert.NotEqual(t, "000", splitList(r.Source)[0], "%s: 000 gives no archive path", r.Path)
		if r.Install == InstallLegacyOS {
			assert.Equal(t, Range("<=4"), r.Versions)
		}
	}
	assert.Equal(t, 5, n)
	for _, tc := range []struct {
		v    string
		want []string
	}{
		{"4.0", []string{`C:\Program Files\CrashPlan\backupArchives`}},
		{"4.9.1", []string{`C:\Program Files\CrashPlan\backupArchives`}},
		{"5.0", nil},
		{"11.1", nil},
	} {
		tb, err := p.PathTable(PathQuery{OS: "windows", Version: ver(tc.v), Install: InstallLegacyOS})
		require.NoError(t, err)
		assert.Equal(t, tc.want, pathsOf(tb, RoleArchive, ""), tc.v)
	}
	src := p.Sources[slices.IndexFunc(p.Sources, func(s Source) bool { return s.ID == "c42-v4-archives" })]
	assert.Contains(t, src.Title, "computer-to-computer")
}

// The rows that are our inferences say so; no row cites the project's own documents.
func TestCode42Relabelled(t *testing.T) {
	p := code42(t)
	for _, name := range []string{"incydr-gov-f1", "incydr-gov-f2"} {
		pr, err := p.Product(name)
		require.NoError(t, err)
		assert.Equal(t, ConfidenceInferred, pr.Confidence, name)
	}
	for _, name := range []string{"crashplan", "incydr-basic", "incydr-advanced", "incydr-professional"} {
		pr, _ := p.Product(name)
		assert.Equal(t, ConfidenceVendorDoc, pr.Confidence, name)
	}
	for _, s := range p.Signers {
		assert.Equal(t, ConfidenceInferred, s.Confidence, s.TeamID)
		assert.Empty(t, s.Versions, "%s: bounded by its era, not by a version range no source gives", s.TeamID)
	}
	for _, f := range p.Facts {
		if f.Kind == "package" {
			assert.Equal(t, ConfidenceInferred, f.Confidence, f.Value)
		}
	}
	for _, r := range p.Paths {
		if strings.Contains(r.Use, "Menu bar") {
			assert.Equal(t, ConfidenceInferred, r.Confidence, r.Path)
		}
	}
	for _, tc := range []struct {
		v    string
		conf Confidence
	}{{"6.8.2", "vendor-doc"}, {"10.9", "vendor-doc"}, {"11.0", "inferred"}, {"11.1.2", "inferred"}} {
		tb, err := p.PathTable(PathQuery{OS: "linux", Version: ver(tc.v)})
		require.NoError(t, err)
		var got []Confidence
		for _, r := range tb.Rows {
			if r.Path == "~/.code42/logs" {
				got = append(got, r.Confidence)
			}
		}
		assert.Equal(t, []Confidence{tc.conf}, got, tc.v)
	}
	own := regexp.MustCompile(`(?i)supplement|contract|shared/reference|README|edrpolicy`)
	for _, s := range p.Sources {
		assert.False(t, own.MatchString(s.Ref), "source %s cites %q", s.ID, s.Ref)
	}
}

// Ports per seeds 002 and 003.
func TestCode42Ports(t *testing.T) {
	p := code42(t)
	find := func(rows []PortRow, port int, comp string) *PortRow {
		for i := range rows {
			if rows[i].Port == port && rows[i].Component == comp {
				return &rows[i]
			}
		}
		return nil
	}
	for _, tc := range []struct {
		app, server string
		port        int
		comp        string
		want        bool
	}{
		{"5.3.9", "", 4287, "app", false},
		{"5.4", "", 4287, "app", true},
		{"11.0", "", 4287, "app", true},
		{"5.3", "", 4282, "app", true},
		{"4.8", "", 4282, "app", true},
		{"5.4", "", 4282, "app", false},
		{"11.0", "", 443, "app", true},
		{"4.7", "", 443, "app", true},
		{"", "", 4286, "server", true},
		{"", "7.0", 4286, "server", true},
		{"", "7.0.2", 4286, "server", true},
		{"", "7.1", 4286, "server", false},
		{"11.0", "7.0", 4286, "server", true}, // the app's version does not decide 4286
		{"6.0", "", 4286, "server", true},
		{"11.0", "", 4244, "app", true},
		{"11.0", "", 4280, "server", true},
	} {
		rows := p.PortsFor(PortQuery{Version: ver(tc.app), ServerVersion: ver(tc.server)})
		assert.Equal(t, tc.want, find(rows, tc.port, tc.comp) != nil, "app %s server %s: %d %s", tc.app, tc.server, tc.port, tc.comp)
	}
	all := p.PortsFor(PortQuery{})
	assert.Equal(t, []int{443}, find(all, 4287, "app").Alternatives)
	assert.Equal(t, []int{4287}, find(all, 443, "app").Alternatives)
	assert.Equal(t, PortUnsupported, find(all, 4282, "app").Status)
	assert.Contains(t, find(all, 4282, "app").Description, "2020-02-04")
	// 4285 for app deployment: servers 6.5 and later deploying apps 6.5 and later.
	count4285 := func(app, server string) int {
		n := 0
		for _, r := range p.PortsFor(PortQuery{Version: ver(app), ServerVersion: ver(server), Component: "server"}) {
			if r.Port == 4285 {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 1, count4285("6.4", "6.5"))
	assert.Equal(t, 1, count4285("6.5", "6.4"))
	assert.Equal(t, 2, count4285("6.5", "6.5"))
	// The license row is the license row; the upgrade-files row lost its port and stays apart.
	lic := find(all, 443, "server")
	require.NotNil(t, lic)
	assert.NotContains(t, strings.ToLower(lic.Description), "upgrade")
	var lost []string
	for _, r := range all {
		if r.Status == PortUnknown {
			assert.Zero(t, r.Port)
			assert.Contains(t, r.Note, "lost in extraction")
			lost = append(lost, r.Description)
		}
	}
	assert.Len(t, lost, 6)
	for _, w := range []string{"upgrade files", "RADIUS", "Cloud OS only", "Pre-Cloud OS only", "remote console", "remote IPMI"} {
		assert.True(t, slices.ContainsFunc(lost, func(d string) bool { return strings.Contains(d, w) }), w)
	}
}

// seedText returns the seed article, from $EDRPOLICY_SEEDS (a missing file fails the test) or
// else from the shared folder beside the repository when there is one (the seeds are not part
// of the repository; .ci/run sets EDRPOLICY_SEEDS when the shared folder is there).
func seedText(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("EDRPOLICY_SEEDS")
	explicit := dir != ""
	if !explicit {
		dir = filepath.Join("..", "..", "..", "shared", "seeds")
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		if explicit {
			t.Fatalf("seed %s: %v", name, err)
		}
		t.Skipf("seed %s: %v (set EDRPOLICY_SEEDS to the seeds folder)", name, err)
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// The advice is the seeds' own words: both sides of the proactive-exceptions question, the
// user-detection, backup-selection, self-update and renewal sentences.
func TestCode42AdviceQuotesTheSeeds(t *testing.T) {
	p := code42(t)
	topics := map[string][]string{}
	for _, a := range p.Advice {
		topics[a.Topic] = append(topics[a.Topic], a.Source)
		for _, id := range splitList(a.Source) {
			ref := p.SourceRefs(id)
			text := seedText(t, ref)
			assert.Contains(t, text, strings.Join(strings.Fields(a.Quote), " "), "advice %q is not verbatim in %s", a.Quote, ref)
		}
	}
	assert.Equal(t, []string{"000", "000", "001", "001"}, topics[AdviceExceptions])
	for _, topic := range []string{"user-detection", AdviceBackupSelection, AdviceHash, AdviceSigner} {
		assert.NotEmpty(t, topics[topic], topic)
	}
	quotes := ""
	for _, a := range p.AdviceFor(AdviceExceptions) {
		quotes += a.Quote + "\n"
	}
	assert.Contains(t, quotes, "Do not proactively create exclusions")
	assert.Contains(t, quotes, "create proactive exception policies")
}
