package fleet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// macFleet is 1,000 macOS hosts: 11.2.0 (the sample's v2) on 700, 11.1.0 (v1) on 290, 11.0.0
// (a build only osquery saw) on 10 — exactly the 1% --min-share, so it is covered. mac-0042's
// CrashPlan binary is another build, signed by another Team ID; mac-0043's is ad-hoc signed.
// mac-0000 (11.2.0) and mac-0700 (11.1.0) sent inspect evidence; so did mac-0001, whose bundle
// has a modified resource (a broken seal). osquery rows come as snapshot lines (the pack's
// files query) and event lines (the pack's apps query, the hosts' versions).
func makeMacFleet(t *testing.T) []Source {
	t.Helper()
	inv1 := inspectAs(t, filepath.Join(sampleDir, "mac"), "/Applications", "mac-0700")
	inv2 := inspectAs(t, filepath.Join(sampleDir, "v2", "mac"), "/Applications", "mac-0000")
	broken := t.TempDir()
	require.NoError(t, os.CopyFS(broken, os.DirFS(filepath.Join(sampleDir, "v2", "mac"))))
	notice := filepath.Join(broken, "CrashPlan.app", "Contents", "Resources", "NOTICE.txt")
	require.NoError(t, os.WriteFile(notice, []byte("modified on this host\n"), 0o644))
	invBroken := inspectAs(t, broken, "/Applications", "mac-0001")

	v1, v2 := buildOf(inv1, "11.1.0"), buildOf(inv2, "11.2.0")
	v0 := syntheticBuild(v1, "11.0.0")
	files, versions := &logWriter{form: "snapshot"}, &logWriter{form: "event"}
	for i := range 1000 {
		host := hostName("mac", i)
		if i <= 1 || i == 700 {
			continue
		}
		b := v2
		switch {
		case i >= 990:
			b = v0
		case i >= 700:
			b = v1
		}
		var rows []map[string]any
		for _, f := range b.files {
			if f.rel == "CrashPlan.app/Contents/MacOS/CrashPlan" {
				switch host {
				case "mac-0042":
					f.sha256, f.team = sum("another team's build"), "EVILTEAM99"
				case "mac-0043":
					f.sha256, f.team = sum("an ad-hoc build"), ""
				}
			}
			rows = append(rows, columns(profile.OSMac, "/Applications", f))
		}
		files.host(host, rows, nil)
		versions.host(host, []map[string]any{{"path": "/Applications/CrashPlan.app", "bundle_short_version": b.version, "bundle_identifier": "com.example.edrpolicy-sample.crashplan"}}, nil)
	}
	dir := t.TempDir()
	return []Source{
		{Name: writeFile(t, dir, "osqueryd.snapshots.log", files.buf.Bytes())},
		{Name: writeFile(t, dir, "osqueryd.results.log", versions.buf.Bytes())},
		{Name: writeFile(t, dir, "mac-0000.json", inventoryJSON(t, inv2))},
		{Name: writeFile(t, dir, "mac-0700.json", inventoryJSON(t, inv1))},
		{Name: writeFile(t, dir, "mac-0001.json.gz", gz(t, inventoryJSON(t, invBroken)))},
	}
}

// Team IDs from osquery's signature rows find the odd hosts but never make a signer rule; the
// signer rules come from the reference inspections (here a certificate under the sample CA,
// not Apple's: the rule names the leaf thumbprint, narrowed to the signing identifier).
func TestFleetMacTeamIDs(t *testing.T) {
	pol, err := Generate(context.Background(), Options{
		Evidence: makeMacFleet(t),
		Generate: edrpolicy.GenerateOptions{AppVersion: edrpolicy.VersionAuto, Decide: edrpolicy.DecideOptions{Profile: code42(t), OS: profile.OSMac, Level: edrpolicy.CriterionSigner}},
	})
	require.NoError(t, err)
	assert.Equal(t, "11.2.0", pol.AppVersion)
	assert.Equal(t, []edrpolicy.FleetVersion{{Version: "11.2.0", Hosts: 700, Status: "current"}, {Version: "11.1.0", Hosts: 290, Status: "covered"}, {Version: "11.0.0", Hosts: 10, Status: "covered"}}, pol.Fleet.Versions)

	const bin = "/Applications/CrashPlan.app/Contents/MacOS/CrashPlan"
	team := findingWith(t, pol, WarnOutlier, `Team ID "EVILTEAM99"`)
	assert.Equal(t, []string{"mac-0042"}, team.Hosts)
	assert.Contains(t, team.Message, `differs from the fleet's "EDRSAMPLE1"`)
	adhoc := findingWith(t, pol, WarnOutlier, "ad-hoc")
	assert.Equal(t, []string{"mac-0043"}, adhoc.Hosts)
	var digestHosts []string
	for _, w := range pol.Warnings {
		if w.Code == WarnOutlier && strings.Contains(w.Message, bin+" (version 11.2.0): SHA-256") {
			digestHosts = append(digestHosts, w.Hosts...)
		}
	}
	assert.ElementsMatch(t, []string{"mac-0042", "mac-0043"}, digestHosts)
	seal := findingWith(t, pol, WarnOutlier, "seal is broken")
	assert.Equal(t, []string{"mac-0001"}, seal.Hosts)
	assert.Contains(t, seal.Message, "on 1 of 2 inspected hosts")
	notice := findingWith(t, pol, WarnOutlier, "Resources/NOTICE.txt (version 11.2.0): SHA-256")
	assert.Equal(t, []string{"mac-0001"}, notice.Hosts, "the modified resource is a digest outlier too")
	assert.Equal(t, 6, pol.Fleet.Findings, "%v", findings(pol, WarnOutlier))

	var signer, kept, hash []edrpolicy.Rule
	for _, r := range pol.Rules {
		assert.NotEqual(t, "EVILTEAM99", r.TeamID)
		assert.NotEqual(t, "EVILTEAM99", r.Value)
		switch {
		case r.Criterion == edrpolicy.CriterionSigner && r.AppVersion == "":
			signer = append(signer, r)
		case r.Criterion == edrpolicy.CriterionSigner:
			kept = append(kept, r)
		case r.Criterion == edrpolicy.CriterionHash:
			hash = append(hash, r)
		}
	}
	require.Len(t, signer, 1)
	assert.Equal(t, "com.example.edrpolicy-sample.crashplan", signer[0].SigningID, "not an Apple-issued certificate: narrowed")
	assert.Empty(t, signer[0].TeamID, "a Team ID only a certificate under Apple's root proves")
	assert.Equal(t, []string{bin}, signer[0].Files)
	require.Len(t, kept, 1)
	assert.Equal(t, "11.1.0", kept[0].AppVersion)
	assert.NotEqual(t, signer[0].Value, kept[0].Value, "11.2.0 is signed with a renewed certificate")
	require.Len(t, hash, 1, "11.0.0's binary, which no reference inspection covers")
	assert.Equal(t, "11.0.0", hash[0].AppVersion)
	assert.Contains(t, hash[0].Reason, "no inspect evidence of a reference host has this SHA-256, and osquery reports no certificate thumbprint")
}
