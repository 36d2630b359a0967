package fleet

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// windowsFleet is a day of evidence from 1,000 Windows hosts running three CrashPlan versions:
// 11.2.0 (the sample's v2) on 600 hosts, 11.1.0 (v1) on 395, 11.0.0 (a build only osquery saw)
// on 5. Host ws-0123 has a CrashPlanService.exe no other host has, which osquery's
// authenticode table calls untrusted. Hosts ws-0000 (11.2.0) and ws-0600 (11.1.0) sent
// `edrpolicy inspect --format json` instead of osquery rows: the reference evidence. The
// osquery rows come in every form: osqueryd event lines (some hosts upgraded from 11.1.0 during
// the day: added, then removed, rows), snapshot lines read from standard input, gzipped batch
// lines, a Fleet query report, and an osqueryi --json array.
type windowsFleet struct {
	sources        []Source
	v0, v1, v2     build
	v1Thumb        string
	v2Thumb        string
	tamperedSHA256 string
	stdin          string // the snapshot lines, read as standard input
}

const winBase = `C:\Program Files\CrashPlan`

func makeWindowsFleet(t *testing.T) *windowsFleet {
	t.Helper()
	inv1 := inspectAs(t, filepath.Join(sampleDir, "windows"), winBase, "ws-0600")
	inv2 := inspectAs(t, filepath.Join(sampleDir, "v2", "windows"), winBase, "ws-0000")
	w := &windowsFleet{v1: buildOf(inv1, "11.1.0"), v2: buildOf(inv2, "11.2.0"), tamperedSHA256: sum("tampered CrashPlanService.exe")}
	w.v0 = syntheticBuild(w.v1, "11.0.0")
	for _, f := range inv2.Files {
		if f.Path == "CrashPlanService.exe" {
			w.v2Thumb = f.Signatures[0].Signer.ThumbprintSHA1
		}
		if f.Path == "CrashPlanNative.dll" {
			w.v1Thumb = f.Signatures[0].Signer.ThumbprintSHA1 // unchanged in v2: still the v1 certificate
		}
	}
	require.Equal(t, sampleV1Thumb, w.v1Thumb)
	require.True(t, strings.HasPrefix(w.v2Thumb, sampleV2Thumb))

	event, snapshot, batch := &logWriter{form: "event"}, &logWriter{form: "snapshot"}, &logWriter{form: "batch"}
	var fleetRows, osqueryi []map[string]any
	for i := range 1000 {
		host := hostName("ws", i)
		if i == 0 || i == 600 {
			continue
		}
		b := w.v2
		switch {
		case i >= 995:
			b = w.v0
		case i >= 600:
			b = w.v1
		}
		rows := w.rows(b, host)
		switch {
		case i >= 995:
			for _, r := range rows {
				r["hostname"] = host
				osqueryi = append(osqueryi, r)
			}
		case i%4 == 0 && i < 600 && i%8 == 0:
			// Upgraded during the day: 11.1.0 added, then removed, then 11.2.0 added.
			old := w.rows(w.v1, host)
			event.host(host, old, nil)
			event.host(host, rows, old)
		case i%4 == 0:
			event.host(host, rows, nil)
			if i%40 == 0 {
				event.buf.WriteString(`{"name":"pack_processes","hostIdentifier":"` + host + `","columns":{"pid":"4","path":"C:\\Windows\\System32\\svchost.exe","name":"svchost.exe"},"action":"added"}` + "\n")
			}
		case i%4 == 1:
			snapshot.host(host, rows, nil)
		case i%4 == 2:
			batch.host(host, rows, nil)
		default:
			for _, r := range rows {
				fleetRows = append(fleetRows, map[string]any{"host_id": i, "host_name": host, "last_fetched": "2026-01-05T10:00:00Z", "columns": r})
			}
		}
	}
	dir := t.TempDir()
	report, err := json.MarshalIndent(map[string]any{"query_id": 42, "report_clipped": false, "results": fleetRows}, "", "  ")
	require.NoError(t, err)
	array, err := json.MarshalIndent(osqueryi, "", "  ")
	require.NoError(t, err)
	w.sources = []Source{
		{Name: writeFile(t, dir, "osqueryd.results.log", event.buf.Bytes())},
		{Name: "-"},
		{Name: writeFile(t, dir, "batch.log.gz", gz(t, batch.buf.Bytes()))},
		{Name: writeFile(t, dir, "fleet-report.json", report)},
		{Name: writeFile(t, dir, "osqueryi.json", array)},
		{Name: writeFile(t, dir, "ws-0000.json", inventoryJSON(t, inv2))},
		{Name: writeFile(t, dir, "ws-0600.json", inventoryJSON(t, inv1))},
	}
	w.stdin = snapshot.buf.String()
	return w
}

func (w *windowsFleet) rows(b build, host string) []map[string]any {
	var out []map[string]any
	for _, f := range b.files {
		if host == "ws-0123" && f.rel == "CrashPlanService.exe" {
			f.sha256, f.sha1, f.authenticode = w.tamperedSHA256, "", "untrusted"
		}
		out = append(out, columns(profile.OSWindows, winBase, f))
	}
	return out
}

func code42(t testing.TB) *profile.Profile {
	p, err := profile.BuiltIn("code42")
	require.NoError(t, err)
	return p
}

func (w *windowsFleet) generate(t *testing.T, level edrpolicy.Criterion, pins ...string) *edrpolicy.Policy {
	t.Helper()
	for i := range w.sources {
		if w.sources[i].Name == "-" {
			w.sources[i].Reader = strings.NewReader(w.stdin)
		}
	}
	pol, err := Generate(context.Background(), Options{
		Evidence: w.sources,
		Generate: edrpolicy.GenerateOptions{AppVersion: edrpolicy.VersionAuto, Decide: edrpolicy.DecideOptions{
			Profile: code42(t), OS: profile.OSWindows, Level: level, PinSigners: pins,
		}},
	})
	require.NoError(t, err)
	return pol
}

// findings returns the fleet-outlier warnings by a fragment of their message, with hosts.
func findings(pol *edrpolicy.Policy, code edrpolicy.WarningCode) map[string][]string {
	out := map[string][]string{}
	for _, w := range pol.Warnings {
		if w.Code == code {
			out[w.Message] = w.Hosts
		}
	}
	return out
}

func findingWith(t *testing.T, pol *edrpolicy.Policy, code edrpolicy.WarningCode, fragment string) edrpolicy.Warning {
	t.Helper()
	var hit []edrpolicy.Warning
	for _, w := range pol.Warnings {
		if w.Code == code && strings.Contains(w.Message, fragment) {
			hit = append(hit, w)
		}
	}
	require.Len(t, hit, 1, "one %s warning with %q in %v", code, fragment, findings(pol, code))
	return hit[0]
}

func hostRange(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, hostName(prefix, i))
	}
	return out
}

// The whole fleet in every evidence form: each outlier is named with its hosts, the versions
// enough hosts run are covered, and nothing the tampered host or the rare version carries
// gets a rule.
func TestFleetWindowsOutliersAndVersions(t *testing.T) {
	w := makeWindowsFleet(t)
	pol := w.generate(t, edrpolicy.CriterionSigner, w.v1Thumb, w.v2Thumb)

	assert.Equal(t, "11.2.0", pol.AppVersion)
	require.NotNil(t, pol.Fleet)
	assert.Equal(t, 1000, pol.Fleet.Hosts)
	assert.Equal(t, []edrpolicy.FleetVersion{{Version: "11.2.0", Hosts: 600, Status: "current"}, {Version: "11.1.0", Hosts: 395, Status: "covered"}, {Version: "11.0.0", Hosts: 5, Status: "outlier"}}, pol.Fleet.Versions)
	assert.Equal(t, 3, pol.Fleet.Findings, "%v", findings(pol, WarnOutlier))
	assert.False(t, pol.Partial)
	var formats []string
	for _, s := range pol.Fleet.Evidence {
		formats = append(formats, s.Format)
		assert.Zero(t, s.Errors, s.File)
	}
	assert.Equal(t, []string{"osqueryd-event", "osqueryd-snapshot", "gzip+osqueryd-batch", "fleet-report", "osqueryi", "inspect", "inspect"}, formats)
	assert.Equal(t, int64(9), pol.Fleet.Ignored, "the processes rows of hosts 640, 680, ..., 960 are not evidence about the install")

	// The three outliers, each with its hosts.
	v := findingWith(t, pol, WarnOutlier, "version 11.0.0 runs on 5 of 1000 hosts")
	assert.Equal(t, hostRange("ws", 995, 999), v.Hosts)
	d := findingWith(t, pol, WarnOutlier, "SHA-256 "+w.tamperedSHA256[:12])
	assert.Equal(t, []string{"ws-0123"}, d.Hosts)
	assert.Equal(t, []string{winBase + `\CrashPlanService.exe`}, d.Files)
	assert.Contains(t, d.Message, "on 1 of 600 hosts")
	a := findingWith(t, pol, WarnOutlier, "authenticode result untrusted")
	assert.Equal(t, []string{"ws-0123"}, a.Hosts)
	assert.Contains(t, a.Message, "on 1 of 599 hosts", "the two inspect hosts report no authenticode row")

	// Rules: the v2 certificate for the files it signs, the v1 certificate for the DLL v2
	// kept and for 11.1.0's builds, the unsigned uninstaller by hash.
	byValue := map[string]edrpolicy.Rule{}
	for _, r := range pol.Rules {
		if r.Role != profile.RoleExecutable {
			continue
		}
		byValue[r.Value] = r
		assert.Empty(t, r.AppVersion, "%s: every rule of 11.1.0 is also one of 11.2.0", r.Value)
		for _, fd := range r.FileDigests {
			assert.NotEqual(t, w.tamperedSHA256, fd.SHA256)
		}
		assert.NotEqual(t, w.tamperedSHA256, r.Value)
		for _, f := range w.v0.files {
			assert.NotEqual(t, f.sha256, r.Value, "11.0.0 runs on too few hosts")
		}
	}
	require.Len(t, byValue, 3, "%v", byValue)
	v2 := byValue[w.v2Thumb]
	assert.Equal(t, edrpolicy.CriterionSigner, v2.Criterion)
	assert.Equal(t, []string{winBase + `\CrashPlanService.exe`, winBase + `\electron\CrashPlanDesktop.exe`}, v2.Files)
	v1 := byValue[w.v1Thumb]
	assert.Equal(t, []string{winBase + `\CrashPlanNative.dll`, winBase + `\CrashPlanService.exe`, winBase + `\electron\CrashPlanDesktop.exe`}, v1.Files)
	var v1digests []string
	for _, fd := range v1.FileDigests {
		v1digests = append(v1digests, fd.SHA256)
	}
	assert.ElementsMatch(t, []string{digestOf(w.v1, "CrashPlanNative.dll"), digestOf(w.v1, "CrashPlanService.exe"), digestOf(w.v1, "electron/CrashPlanDesktop.exe")}, v1digests)
	un := byValue[digestOf(w.v2, "Uninstall.exe")]
	assert.Equal(t, edrpolicy.CriterionHash, un.Criterion)
	assert.Equal(t, "unsigned: no signature to trust", un.Reason, "the reference inspection says why")
}

func digestOf(b build, rel string) string {
	for _, f := range b.files {
		if f.rel == rel {
			return f.sha256
		}
	}
	return ""
}

// At the hash level the 11.1.0 builds that 11.2.0 replaced are kept, labelled with their
// version, as generate --keep-previous keeps a previous version's rules; files both versions
// share are one current rule.
func TestFleetWindowsKeepsOlderVersions(t *testing.T) {
	w := makeWindowsFleet(t)
	pol := w.generate(t, edrpolicy.CriterionHash)
	labels := map[string]string{}
	for _, r := range pol.Rules {
		if r.Criterion != edrpolicy.CriterionHash {
			continue
		}
		labels[r.Value] = r.AppVersion
		if r.AppVersion != "" {
			assert.Contains(t, r.Reason, "kept for version 11.1.0, which 395 host(s) of the fleet still run")
		}
	}
	assert.Equal(t, map[string]string{
		digestOf(w.v2, "CrashPlanService.exe"):          "",
		digestOf(w.v2, "electron/CrashPlanDesktop.exe"): "",
		digestOf(w.v2, "CrashPlanNative.dll"):           "",
		digestOf(w.v2, "Uninstall.exe"):                 "",
		digestOf(w.v1, "CrashPlanService.exe"):          "11.1.0",
		digestOf(w.v1, "electron/CrashPlanDesktop.exe"): "11.1.0",
	}, labels)
	assert.Equal(t, digestOf(w.v1, "CrashPlanNative.dll"), digestOf(w.v2, "CrashPlanNative.dll"))
	assert.Contains(t, pol.Summary.Text, "(2 kept for 11.1.0)")
	assert.Equal(t, 8, pol.Summary.Files, "4 executables of each covered version")
}

// The policy is the same whatever the order of the evidence files.
func TestFleetDeterministic(t *testing.T) {
	w := makeWindowsFleet(t)
	a, err := w.generate(t, edrpolicy.CriterionSigner, w.v1Thumb, w.v2Thumb).JSON()
	require.NoError(t, err)
	for i, j := 0, len(w.sources)-1; i < j; i, j = i+1, j-1 {
		w.sources[i], w.sources[j] = w.sources[j], w.sources[i]
	}
	b, err := w.generate(t, edrpolicy.CriterionSigner, w.v1Thumb, w.v2Thumb).JSON()
	require.NoError(t, err)
	var pa, pb edrpolicy.Policy
	require.NoError(t, json.Unmarshal(a, &pa))
	require.NoError(t, json.Unmarshal(b, &pb))
	pa.Fleet.Evidence, pb.Fleet.Evidence = nil, nil // listed in the order given
	assert.Equal(t, pa, pb)
}
