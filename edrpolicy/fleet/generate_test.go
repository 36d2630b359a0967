package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/signers"
)

// eventLines writes osqueryd event lines: for each host, each path with its digest.
func eventLines(hosts []string, files map[string]string, extra map[string]string) string {
	var b strings.Builder
	for _, h := range hosts {
		for p, s := range files {
			cols := map[string]string{"path": p, "sha256": s}
			for k, v := range extra {
				cols[k] = v
			}
			line, _ := json.Marshal(map[string]any{"name": "q", "hostIdentifier": h, "action": "added", "columns": cols})
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func hosts(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, hostName(prefix, i))
	}
	return out
}

func generateFrom(t *testing.T, os profile.OS, level edrpolicy.Criterion, version string, srcs ...Source) (*edrpolicy.Policy, error) {
	t.Helper()
	if version == "" {
		version = edrpolicy.VersionAuto
	}
	return Generate(context.Background(), Options{Evidence: srcs, Generate: edrpolicy.GenerateOptions{AppVersion: version,
		Decide: edrpolicy.DecideOptions{Profile: code42(t), OS: os, Level: level}}})
}

func text(name, s string) Source { return Source{Name: name, Reader: strings.NewReader(s)} }

// Two builds of one path, each on enough hosts, both get rules, and the second is named.
func TestFleetSecondBuild(t *testing.T) {
	exe := winBase + `\CrashPlanService.exe`
	in := eventLines(hosts("a", 60), map[string]string{exe: sumA}, map[string]string{"product_version": "11.2.0.0"}) +
		eventLines(hosts("b", 40), map[string]string{exe: sumB}, map[string]string{"product_version": "11.2.0.0"})
	pol, err := generateFrom(t, profile.OSWindows, edrpolicy.CriterionHash, "", text("day.log", in))
	require.NoError(t, err)
	w := findingWith(t, pol, WarnOutlier, "a second build")
	assert.Equal(t, hosts("b", 40), w.Hosts)
	assert.Contains(t, w.Message, "on 40 of 100 hosts (the most common, aaaaaaaaaaaa…, on 60)")
	var values []string
	for _, r := range pol.Rules {
		if r.Criterion == edrpolicy.CriterionHash {
			values = append(values, r.Value)
			assert.Equal(t, "hash level: the exact SHA-256 of this build", r.Reason)
		}
	}
	assert.ElementsMatch(t, []string{sumA, sumB}, values)
}

// Thresholds: --min-hosts and --min-share decide what is an outlier; a fleet too small for
// them is refused with the counts, not turned into an empty policy.
func TestFleetThresholds(t *testing.T) {
	exe := winBase + `\CrashPlanService.exe`
	fleet := eventLines(hosts("a", 97), map[string]string{exe: sumA}, map[string]string{"product_version": "11.2.0.0"}) +
		eventLines(hosts("b", 3), map[string]string{exe: sumB}, map[string]string{"product_version": "11.2.0.0"})
	for _, tc := range []struct {
		minHosts int
		minShare float64
		outlier  bool
	}{
		{2, 0.01, false}, // 3 hosts, 3%
		{4, 0.01, true},  // fewer than 4 hosts
		{2, 0.05, true},  // less than 5%
		{3, 0.03, false}, // the bounds are inclusive
	} {
		pol, err := Generate(context.Background(), Options{Evidence: []Source{text("d", fleet)}, MinHosts: tc.minHosts, MinShare: tc.minShare,
			Generate: edrpolicy.GenerateOptions{AppVersion: "auto", Decide: edrpolicy.DecideOptions{Profile: code42(t), OS: profile.OSWindows}}})
		require.NoError(t, err)
		hasRule := false
		for _, r := range pol.Rules {
			hasRule = hasRule || r.Value == sumB
		}
		assert.Equal(t, !tc.outlier, hasRule, "%+v", tc)
		assert.Equal(t, tc.outlier, len(findings(pol, WarnOutlier)) == 1 && !strings.Contains(fmt.Sprint(findings(pol, WarnOutlier)), "second build"), "%+v: %v", tc, findings(pol, WarnOutlier))
	}
	_, err := generateFrom(t, profile.OSWindows, edrpolicy.CriterionHash, "", text("one.log", eventLines([]string{"solo"}, map[string]string{exe: sumA}, map[string]string{"product_version": "11.2.0"})))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no application version runs on enough hosts (the thresholds of 2 hosts and 1%; of 1 hosts: 11.2.0 on 1)")
}

// Hosts whose rows name no version are named and not counted; a fleet that names no version
// at all runs --app-version (or the profile needs none).
func TestFleetVersionUnknown(t *testing.T) {
	exe, dll := winBase+`\CrashPlanService.exe`, winBase+`\CrashPlanNative.dll`
	in := eventLines(hosts("a", 10), map[string]string{exe: sumA}, map[string]string{"product_version": "11.2.0.0"}) +
		eventLines([]string{"dll-only"}, map[string]string{dll: sumB}, nil)
	pol, err := generateFrom(t, profile.OSWindows, edrpolicy.CriterionHash, "", text("d", in))
	require.NoError(t, err)
	w := findingWith(t, pol, WarnVersionUnknown, "report no application version")
	assert.Equal(t, []string{"dll-only"}, w.Hosts)
	assert.Equal(t, 1, pol.Fleet.Findings)

	// No version anywhere: --app-version decides; without it, the profile's Windows paths
	// depend on the version, so it is asked for.
	none := eventLines(hosts("a", 10), map[string]string{dll: sumB}, nil)
	_, err = generateFrom(t, profile.OSWindows, edrpolicy.CriterionHash, "", text("d", none))
	assert.ErrorContains(t, err, "give the version explicitly")
	pol, err = generateFrom(t, profile.OSWindows, edrpolicy.CriterionHash, "11.2.0", text("d", none))
	require.NoError(t, err)
	assert.Equal(t, "11.2.0", pol.AppVersion)
	assert.Equal(t, edrpolicy.VersionGiven, pol.AppVersionSource)
	assert.Zero(t, pol.Fleet.Findings)

	// Linux: code42 names no Linux version source; the version comes from --app-version.
	lx := eventLines(hosts("lx", 5), map[string]string{"/usr/local/crashplan/bin/CrashPlanService": sumA, "/etc/passwd": sumA}, map[string]string{"mode": "0755"}) +
		eventLines(hosts("lx", 5), map[string]string{"/usr/local/crashplan/conf/my.service.xml": sumB}, map[string]string{"mode": "0644"})
	pol, err = generateFrom(t, profile.OSLinux, edrpolicy.CriterionSigner, "11.2.0", text("lx", lx))
	require.NoError(t, err)
	var hashes []string
	for _, r := range pol.Rules {
		if r.Criterion == edrpolicy.CriterionHash {
			hashes = append(hashes, r.Value)
			assert.Contains(t, r.Reason, "osquery reports no certificate thumbprint")
		}
	}
	assert.Equal(t, []string{sumA}, hashes, "an executable mode makes an ELF; the XML file is not executable")
	assert.Equal(t, int64(5), pol.Fleet.Ignored)
}

// inspectWith writes an inspect document of one host whose records claim the given verdict.
func inspectDoc(t *testing.T, host string, files ...edrpolicy.FileEvidence) string {
	var b bytes.Buffer
	require.NoError(t, (&edrpolicy.Inventory{SchemaVersion: 1, Host: host, Files: files}).WriteJSON(&b))
	return b.String()
}

// Reference inspections that disagree about one SHA-256 give no signer rule and name the
// hosts; this run's own --root inspection, verified here, decides over reported ones.
func TestFleetReferenceConflict(t *testing.T) {
	inv := inspectAs(t, filepath.Join(sampleDir, "windows"), winBase, "ref-good")
	var svc edrpolicy.FileEvidence
	for _, f := range inv.Files {
		if f.Path == "CrashPlanService.exe" {
			svc = f
		}
	}
	forged := svc
	forged.Signatures = append([]signers.Signature(nil), svc.Signatures...)
	forged.Signatures[0].Chain = signers.ChainUntrusted
	osq := eventLines(hosts("ws", 20), map[string]string{winBase + `\CrashPlanService.exe`: svc.SHA256}, map[string]string{"product_version": "11.1.0.0", "authenticode_result": "trusted"})
	good, other := inspectDoc(t, "ref-good", svc), inspectDoc(t, "ref-other", forged)
	srcs := []Source{text("osq.log", osq), text("good.json", good), text("other.json", other)}
	pol, err := Generate(context.Background(), Options{Evidence: srcs, Generate: edrpolicy.GenerateOptions{AppVersion: "auto",
		Decide: edrpolicy.DecideOptions{Profile: code42(t), OS: profile.OSWindows, Level: edrpolicy.CriterionSigner, PinSigners: []string{sampleV1Thumb}}}})
	require.NoError(t, err)
	w := findingWith(t, pol, WarnOutlier, "the reference inspections of SHA-256")
	assert.Equal(t, []string{"ref-good", "ref-other"}, w.Hosts)
	assert.Contains(t, w.Message, ": no signer rule")
	for _, r := range pol.Rules {
		if r.Role == profile.RoleExecutable {
			assert.Equal(t, edrpolicy.CriterionHash, r.Criterion)
			assert.Contains(t, r.Reason, "the reference inspections of this SHA-256 disagree")
		}
	}

	// With the install inspected here (--root), its verdict decides, and the signer rule
	// carries the certificate (which inspect JSON does not).
	srcs = []Source{text("osq.log", osq), text("good.json", good), text("other.json", other)}
	pol, err = Generate(context.Background(), Options{Evidence: srcs, Generate: edrpolicy.GenerateOptions{AppVersion: "auto",
		Roots:   []string{filepath.Join(sampleDir, "windows")},
		Inspect: edrpolicy.InspectOptions{Verify: sampleRoots(t)},
		Decide:  edrpolicy.DecideOptions{Profile: code42(t), OS: profile.OSWindows, Level: edrpolicy.CriterionSigner, PinSigners: []string{sampleV1Thumb}}}})
	require.NoError(t, err)
	w = findingWith(t, pol, WarnOutlier, "this run's own inspection (its root) decides")
	assert.Equal(t, []string{"ref-good", "ref-other"}, w.Hosts)
	var signer []edrpolicy.Rule
	for _, r := range pol.Rules {
		if r.Criterion == edrpolicy.CriterionSigner {
			signer = append(signer, r)
		}
	}
	require.Len(t, signer, 1)
	assert.Equal(t, sampleV1Thumb, signer[0].Value)
	assert.NotEmpty(t, signer[0].Certificate)
	assert.Equal(t, []string{winBase + `\CrashPlanService.exe`}, signer[0].Files, "only what the fleet runs: the --root's other files are no host's")
}

// Bad evidence is reported (file and line) and makes the policy partial; the rest is read.
// Evidence that names no host is an error.
func TestFleetBadEvidence(t *testing.T) {
	exe := winBase + `\CrashPlanService.exe`
	good := eventLines(hosts("a", 10), map[string]string{exe: sumA}, map[string]string{"product_version": "11.2.0.0"})
	bad := good + "{\"name\":\"q\",\"hostIdentifier\":\"x\",\"columns\":{\"path\":\"" + strings.ReplaceAll(exe, `\`, `\\`) + "\",\"sha256\":\"zz\"},\"action\":\"added\"}\n" +
		`{"schema_version":1,"host":"rel","files":[{"path":"a.exe","root":"relative\\dir","sha256":"` + sumA + `"}]}` + "\n"
	pol, err := generateFrom(t, profile.OSWindows, edrpolicy.CriterionHash, "", text("day.log", bad), Source{Name: filepath.Join(t.TempDir(), "missing.log")})
	require.NoError(t, err)
	assert.True(t, pol.Partial)
	var msgs []string
	for _, w := range pol.Warnings {
		if w.Code == WarnEvidence {
			msgs = append(msgs, w.Message)
		}
	}
	require.Len(t, msgs, 3, "%q", msgs)
	all := strings.Join(msgs, "\n")
	assert.Contains(t, all, "day.log:11: sha256 \"zz\" is not 64 hex digits")
	assert.Contains(t, all, "day.log:12: record relative\\dir\\a.exe: path")
	assert.Contains(t, all, "missing.log: no such file or directory: the rest of this file was not read")
	assert.Equal(t, 3, pol.Fleet.Findings)
	assert.Equal(t, 10, pol.Fleet.Hosts)

	_, err = generateFrom(t, profile.OSWindows, edrpolicy.CriterionHash, "", text("empty.log", ""), text("junk.log", "junk"))
	require.ErrorIs(t, err, ErrNoEvidence)
	assert.Contains(t, err.Error(), "junk.log:1: not evidence")
}

// A file every host reports without a digest (osquery's --read_max) is a finding: no rule
// covers it.
func TestFleetNoDigest(t *testing.T) {
	big := winBase + `\jre\lib\modules`
	in := eventLines(hosts("a", 5), map[string]string{winBase + `\CrashPlanService.exe`: sumA}, map[string]string{"product_version": "11.2.0.0", "size": "10"}) +
		eventLines(hosts("a", 5), map[string]string{big: ""}, map[string]string{"size": "140000000"})
	pol, err := generateFrom(t, profile.OSWindows, edrpolicy.CriterionHash, "", text("d", in))
	require.NoError(t, err)
	w := findingWith(t, pol, WarnNoDigest, "without a SHA-256")
	assert.Equal(t, []string{big}, w.Files)
	assert.Equal(t, 1, pol.Fleet.Findings)
}
