package edrpolicy

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/signers"
)

func TestParseDuration(t *testing.T) {
	day := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want string // day after AddTo(day), or "error"
	}{
		{"90d", "2026-05-01"},
		{"1d", "2026-02-01"},
		{"12w", "2026-04-25"},
		{"6m", "2026-07-31"},
		{"1m", "2026-03-03"}, // Go's AddDate normalises Feb 31 to Mar 3
		{"1y", "2027-01-31"},
		{"100y", "2126-01-31"},
		{" 30D ", "2026-03-02"},
		{"0d", "error"},
		{"101y", "error"},
		{"90", "error"},
		{"d", "error"},
		{"-5d", "error"},
		{"1.5y", "error"},
		{"90days", "error"},
		{"", "error"},
	} {
		d, err := ParseDuration(tc.in)
		if tc.want == "error" {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, d.AddTo(day).Format(DateLayout), tc.in)
	}
}

func TestParseDay(t *testing.T) {
	for in, want := range map[string]string{
		"2027-03-01":                "2027-03-01T00:00:00Z",
		"2027-03-01T15:04:05Z":      "2027-03-01T00:00:00Z",
		"2027-03-01T23:30:00-05:00": "2027-03-02T00:00:00Z", // its UTC day
	} {
		d, err := ParseDay(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, d.Format(time.RFC3339), in)
	}
	for _, bad := range []string{"03/01/2027", "2027-13-01", "tomorrow", ""} {
		_, err := ParseDay(bad)
		assert.Error(t, err, bad)
	}
}

// govInstall is one hash file and one signer file (leaf not_after 2026-01-31 + 30 days).
func govInstall() *Inventory {
	return &Inventory{Files: []FileEvidence{
		peFile("/r", "a.exe", h('a'), signers.StatusValid, authSig(soonCert, signers.StatusValid, signers.ChainTrusted, false)),
		peFile("/r", "b.exe", h('b'), signers.StatusUnsigned),
	}}
}

func govDecide(t *testing.T, g GovernanceOptions, now time.Time, prev *Policy) *Policy {
	t.Helper()
	pol, err := Decide(govInstall(), DecideOptions{Profile: code42(t), OS: "windows", Version: "10.0", Product: "crashplan",
		NoScanExclusions: true, Level: CriterionSigner, Now: now, Governance: g, Previous: prev,
		PinSigners: []string{soonCert.ThumbprintSHA1}})
	require.NoError(t, err)
	return pol
}

// govOf maps each rule's criterion to "first_seen expires owner justification scope".
func govOf(p *Policy) map[Criterion]string {
	out := map[Criterion]string{}
	for _, r := range p.Rules {
		out[r.Criterion] = strings.Join([]string{r.FirstSeen, r.Expires, r.Owner, r.Justification, r.Scope}, "|")
	}
	return out
}

func TestGovernance(t *testing.T) {
	cert := Day(soonCert.NotAfter).Format(time.RFC3339) // 2026-01-31
	require.Equal(t, "2026-01-31T00:00:00Z", cert)
	later := testNow.AddDate(0, 0, 20) // 2026-01-21

	// No governance: nothing but the certificate's day on the signer rule.
	p := govDecide(t, GovernanceOptions{}, testNow, nil)
	assert.Equal(t, map[Criterion]string{CriterionHash: "||||", CriterionSigner: "|" + cert + "|||"}, govOf(p))
	assert.Nil(t, p.Governance)
	js, err := p.JSON()
	require.NoError(t, err)
	for _, k := range []string{`"owner"`, `"justification"`, `"scope"`, `"first_seen"`, `"governance"`, `""`} {
		assert.NotContains(t, string(js), k, "absent values are left out")
	}

	// A date: every rule; the signer rule no later than its certificate.
	g := GovernanceOptions{Owner: "secops", Justification: "CHG-1", Scope: "all", Expires: "2026-01-15"}
	p = govDecide(t, g, testNow, nil)
	assert.Equal(t, map[Criterion]string{
		CriterionHash:   "|2026-01-15T00:00:00Z|secops|CHG-1|all",
		CriterionSigner: "|2026-01-15T00:00:00Z|secops|CHG-1|all"}, govOf(p))
	assert.Equal(t, &g, p.Governance)
	g.Expires = "2027-06-01T10:00:00Z" // a time of day counts as its day
	p = govDecide(t, g, testNow, nil)
	assert.Equal(t, map[Criterion]string{
		CriterionHash:   "|2027-06-01T00:00:00Z|secops|CHG-1|all",
		CriterionSigner: "|" + cert + "|secops|CHG-1|all"}, govOf(p))

	// A duration: from today for new rules; a rule carried over keeps its expiry, a new one
	// (another hash) gets today + D on the later day.
	g = GovernanceOptions{Expires: "10d"}
	p1 := govDecide(t, g, testNow, nil)
	assert.Equal(t, map[Criterion]string{CriterionHash: "|2026-01-11T00:00:00Z|||", CriterionSigner: "|2026-01-11T00:00:00Z|||"}, govOf(p1))
	p2 := govDecide(t, g, later, p1)
	assert.Equal(t, govOf(p1), govOf(p2), "carried over: the same expiry on a later day")
	j1, _ := p1.JSON()
	j2, _ := p2.JSON()
	assert.Equal(t, strings.Count(string(j1), "2026-01-11"), strings.Count(string(j2), "2026-01-11"))
	// A previous policy that asked for no expiry has nothing to carry: today + D.
	p3 := govDecide(t, g, later, govDecide(t, GovernanceOptions{}, testNow, nil))
	assert.Equal(t, "|2026-01-31T00:00:00Z|||", govOf(p3)[CriterionHash])

	// --max-age: from the first-seen day, carried; the signer rule at its certificate's day
	// when that comes first.
	g = GovernanceOptions{MaxAge: "12d"}
	p1 = govDecide(t, g, testNow, nil)
	assert.Equal(t, map[Criterion]string{CriterionHash: "2026-01-01|2026-01-13T00:00:00Z|||", CriterionSigner: "2026-01-01|2026-01-13T00:00:00Z|||"}, govOf(p1))
	p2 = govDecide(t, g, testNow.AddDate(0, 0, 5), p1)
	assert.Equal(t, govOf(p1), govOf(p2), "first_seen carried")
	g.MaxAge = "1y"
	p1 = govDecide(t, g, testNow, nil)
	assert.Equal(t, map[Criterion]string{CriterionHash: "2026-01-01|2027-01-01T00:00:00Z|||", CriterionSigner: "2026-01-01|" + cert + "|||"}, govOf(p1))
	// Both: the earlier.
	p1 = govDecide(t, GovernanceOptions{MaxAge: "1y", Expires: "5d"}, testNow, nil)
	assert.Equal(t, "2026-01-01|2026-01-06T00:00:00Z|||", govOf(p1)[CriterionHash])

	// A carried rule past its max age: an expired warning (check fails on it).
	old := govDecide(t, GovernanceOptions{MaxAge: "10d"}, testNow, nil)
	p2 = govDecide(t, GovernanceOptions{MaxAge: "10d"}, later, old)
	assert.Contains(t, warningCodes(p2), WarnExpired)
	assert.NotContains(t, warningCodes(old), WarnExpired)
}

func TestGovernanceRefused(t *testing.T) {
	for _, g := range []GovernanceOptions{
		{Expires: "2025-12-31"}, // in the past (testNow is 2026-01-01)
		{Expires: "next week"},
		{Expires: "0d"},
		{MaxAge: "2027-01-01"},
		{MaxAge: "forever"},
	} {
		assert.Error(t, ValidateGovernance(g, testNow), "%+v", g)
		_, err := Decide(govInstall(), DecideOptions{Profile: code42(t), OS: "windows", Version: "10.0", Product: "crashplan", Now: testNow, Governance: g})
		assert.Error(t, err, "%+v", g)
	}
	assert.NoError(t, ValidateGovernance(GovernanceOptions{Expires: "2026-01-01"}, testNow), "today is not the past")
}

func TestDefaultGenerator(t *testing.T) {
	g := DefaultGenerator()
	assert.Equal(t, "edrpolicy", g.Name)
	assert.NotEmpty(t, g.Version)
	assert.NotContains(t, g.Version, " ", "no VCS revision or time: byte-stable")
	assert.Equal(t, g, DefaultGenerator())
	p := govDecide(t, GovernanceOptions{}, testNow, nil)
	assert.Equal(t, &g, p.Generator)
	custom := Generator{Name: "edrpolicy", Version: "v9.9.9"}
	pol, err := Decide(govInstall(), DecideOptions{Profile: code42(t), OS: "windows", Version: "10.0", Product: "crashplan", Now: testNow, Generator: &custom, Roots: []string{"./a/", `C:\b`}})
	require.NoError(t, err)
	js, err := pol.JSON()
	require.NoError(t, err)
	assert.Contains(t, string(js), "{\n  \"schema_version\": 1,\n  \"generator\": {\n    \"name\": \"edrpolicy\",\n    \"version\": \"v9.9.9\"\n  },")
	assert.Contains(t, string(js), "\"roots\": [\n    \"./a/\",\n    \"C:\\\\b\"\n  ],", "roots as given")
}

func TestRulesSortedByFirstFile(t *testing.T) {
	rules := []Rule{
		{Criterion: CriterionPath, Value: "/z", Files: []string{"/z"}},
		{Criterion: CriterionHash, Value: "bb", Files: []string{"/m/b", "/a/x"}},
		{Criterion: CriterionSigner, Value: "aa", Files: []string{"/a/x"}},
		{Criterion: CriterionHash, Value: "cc", Files: []string{"/b"}},
		{Criterion: CriterionHash, Value: "aa", Files: []string{"/b"}},
	}
	sortRules(rules)
	var got []string
	for _, r := range rules {
		got = append(got, string(r.Criterion)+" "+r.Value+" "+r.Files[0])
	}
	assert.Equal(t, []string{"hash bb /a/x", "signer aa /a/x", "hash aa /b", "hash cc /b", "path /z /z"}, got)
}
