package crowdstrike_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/exporters/crowdstrike"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// TestReadBackEntries: every file the exporter writes parses back into exactly the entries
// the policy asks for (hash rules as IOCs in both the API body and the CSV, signer rules as
// certificate exclusions, path rules as ML exclusions), with their actions.
func TestReadBackEntries(t *testing.T) {
	cert, _ := tp.Leaf(t, "Code42 Software, Inc.", "Code42 Software, Inc.")
	sum := tp.Sum("CrashPlanService.exe")
	md5 := tp.Digests(sum)[sum].MD5
	lin := tp.Sum("CrashPlanService-linux")
	cases := []struct {
		name string
		rows func() []string
		want []string
	}{
		{"windows", func() []string {
			f, _ := export(t, tp.WithoutNarrowed(tp.Windows(t)), core.Options{})
			return tp.ReadBack(t, crowdstrike.New(crowdstrike.Options{}), f)
		}, []string{
			"crowdstrike-cert-exclusions.json | certificate | cert-exclusion | " + cert.ThumbprintSHA1 + " |  |  | enabled",
			"crowdstrike-ioc.csv | hash | sha256 | " + sum + " | windows |  | allow",
			"crowdstrike-ioc.json | hash | sha256 | " + sum + " | windows |  | allow",
			`crowdstrike-ml-exclusions.json | path | ml-exclusion | Program Files\CrashPlan\CrashPlanService.exe | windows |  | blocking`,
			`crowdstrike-ml-exclusions.json | path | ml-exclusion | ProgramData\CrashPlan\cache\** | windows |  | blocking`,
			`crowdstrike-ml-exclusions.json | path | ml-exclusion | Users\*\AppData\Local\CrashPlan\log\* | windows |  | blocking`,
		}},
		{"md5-no_action", func() []string {
			f, _ := exportWith(t, crowdstrike.Options{Action: "no_action", MD5: true, ExcludedFrom: []string{"blocking", "extraction"}}, tp.WithoutNarrowed(tp.Windows(t)), core.Options{Digests: tp.Digests(sum)})
			return tp.ReadBack(t, crowdstrike.New(crowdstrike.Options{}), f)
		}, []string{
			"crowdstrike-cert-exclusions.json | certificate | cert-exclusion | " + cert.ThumbprintSHA1 + " |  |  | enabled",
			"crowdstrike-ioc.csv | hash | md5 | " + md5 + " | windows |  | no_action",
			"crowdstrike-ioc.csv | hash | sha256 | " + sum + " | windows |  | no_action",
			"crowdstrike-ioc.json | hash | md5 | " + md5 + " | windows |  | no_action",
			"crowdstrike-ioc.json | hash | sha256 | " + sum + " | windows |  | no_action",
			`crowdstrike-ml-exclusions.json | path | ml-exclusion | Program Files\CrashPlan\CrashPlanService.exe | windows |  | blocking,extraction`,
			`crowdstrike-ml-exclusions.json | path | ml-exclusion | ProgramData\CrashPlan\cache\** | windows |  | blocking,extraction`,
			`crowdstrike-ml-exclusions.json | path | ml-exclusion | Users\*\AppData\Local\CrashPlan\log\* | windows |  | blocking,extraction`,
		}},
		{"linux", func() []string {
			f, _ := export(t, tp.WithoutNarrowed(tp.Linux()), core.Options{Force: true})
			return tp.ReadBack(t, crowdstrike.New(crowdstrike.Options{}), f)
		}, []string{
			"crowdstrike-ioc.csv | hash | sha256 | " + lin + " | linux |  | allow",
			"crowdstrike-ioc.json | hash | sha256 | " + lin + " | linux |  | allow",
			"crowdstrike-ml-exclusions.json | path | ml-exclusion | /usr/local/crashplan/bin/CrashPlanService |  |  | blocking",
			"crowdstrike-ml-exclusions.json | path | ml-exclusion | /usr/local/crashplan/cache/** |  |  | blocking",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, c.rows())
		})
	}
}

// TestReadBackGolden: the committed golden files parse back; of the tricky names, only a
// path with a line break may be refused (a control character in a value).
func TestReadBackGolden(t *testing.T) {
	for _, dir := range []string{"windows", "windows-groups-md5-expiry", "mac", "linux", "tricky"} {
		files := tp.GoldenFiles(t, dir)
		require.NotEmpty(t, files, dir)
		rows, refused := tp.ReadBackTolerant(t, crowdstrike.New(crowdstrike.Options{}), files)
		assert.NotEmpty(t, rows, dir)
		if dir != "tricky" {
			assert.Zero(t, refused, dir)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	ioc := func(ind string) string { return `{"comment":"c","indicators":[` + ind + `]}` }
	good := `"value":"` + tp.Sum("x") + `","action":"allow","platforms":["windows"],"applied_globally":true`
	cases := []struct{ name, file, data, err string }{
		{"domain IOC", "crowdstrike-ioc.json", ioc(`{"type":"domain","value":"evil.com","action":"allow","platforms":["windows"]}`), `type "domain"`},
		{"short sha256", "crowdstrike-ioc.json", ioc(`{"type":"sha256","value":"abc","action":"allow","platforms":["windows"]}`), "is not 64 hex digits"},
		{"unknown platform", "crowdstrike-ioc.json", ioc(`{"type":"sha256",` + `"value":"` + tp.Sum("x") + `","action":"allow","platforms":["ios"]}`), `platform "ios"`},
		{"no platforms", "crowdstrike-ioc.json", ioc(`{"type":"sha256","value":"` + tp.Sum("x") + `","action":"allow","platforms":[]}`), "no platforms"},
		{"bad expiration", "crowdstrike-ioc.json", ioc(`{"type":"sha256",` + good + `,"expiration":"tomorrow"}`), "is not a date"},
		{"no indicators", "crowdstrike-ioc.json", `{"comment":"c"}`, `no "indicators"`},
		{"trailing data", "crowdstrike-ioc.json", ioc(`{"type":"sha256",`+good+`}`) + `{}`, "data after"},
		{"not utf-8", "crowdstrike-ml-exclusions.json", "[{\"value\":\"\xff\"}]", "not UTF-8"},
		{"control char in ML value", "crowdstrike-ml-exclusions.json", `[{"value":"Program Files\\x\u0000.exe","excluded_from":["blocking"],"groups":["all"]}]`, "control character"},
		{"unknown excluded_from", "crowdstrike-ml-exclusions.json", `[{"value":"/opt/x","excluded_from":["everything"],"groups":["all"]}]`, `excluded_from "everything"`},
		{"short thumbprint", "crowdstrike-cert-exclusions.json", `{"exclusions":[{"name":"n","status":"enabled","certificate":{"thumbprint":"abcd"}}]}`, "thumbprint"},
		{"csv header", "crowdstrike-ioc.csv", "kind,value\nsha256,x\n", "columns"},
		{"csv md5 too long", "crowdstrike-ioc.csv", "type,value,action,platforms,severity,applied_globally,host_groups,expiration,source,description,filename\nmd5," + tp.Sum("x") + ",allow,windows,,true,,,edrpolicy,d,f\n", "is not 32 hex digits"},
		{"not ours", "crowdstrike-other.json", `{}`, "not a file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := crowdstrike.New(crowdstrike.Options{}).Parse(c.file, []byte(c.data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.err)
		})
	}
}

// TestParseBOM: a UTF-8 BOM before a JSON body is accepted.
func TestParseBOM(t *testing.T) {
	data := "\ufeff" + `{"comment":"c","indicators":[{"type":"sha256","value":"` + tp.Sum("x") + `","action":"allow","platforms":["mac","linux"]}]}`
	es, err := crowdstrike.New(crowdstrike.Options{}).Parse("crowdstrike-ioc-002.json", []byte(data))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"crowdstrike-ioc-002.json | hash | sha256 | " + tp.Sum("x") + " | linux |  | allow",
		"crowdstrike-ioc-002.json | hash | sha256 | " + tp.Sum("x") + " | mac |  | allow",
	}, tp.Rows(es))
}

func TestAllows(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sum := tp.Sum("a")
	exe := core.Subject{Platform: "windows", Path: `C:\Program Files\CrashPlan\CrashPlanService.exe`, Digests: hashing.Digests{SHA256: sum, MD5: "0123456789abcdef0123456789abcdef"},
		Signers: []core.SubjectSigner{{ThumbprintSHA1: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", CommonName: "Code42"}}}
	mac := core.Subject{Platform: "mac", Path: "/Library/Caches/CrashPlan/a/b.db"}
	ioc := core.Entry{Kind: core.EntryHash, Type: "sha256", Value: sum, Platform: "windows", Action: "allow"}
	with := func(e core.Entry, f func(*core.Entry)) core.Entry { f(&e); return e }
	ml := func(v string) core.Entry {
		e := core.Entry{Kind: core.EntryPath, Type: "ml-exclusion", Value: v, Action: "blocking"}
		if len(v) > 0 && v[0] != '/' {
			e.Platform = "windows"
		}
		return e
	}
	cases := []struct {
		name string
		e    core.Entry
		t    core.Subject
		want bool
	}{
		{"sha256 allow", ioc, exe, true},
		{"md5 allow", with(ioc, func(e *core.Entry) { e.Type, e.Value = "md5", "0123456789abcdef0123456789abcdef" }), exe, true},
		{"no_action allows nothing", with(ioc, func(e *core.Entry) { e.Action = "no_action" }), exe, false},
		{"other platform", with(ioc, func(e *core.Entry) { e.Platform = "mac" }), exe, false},
		{"expired", with(ioc, func(e *core.Entry) { e.Expires = "2025-12-31T00:00:00Z" }), exe, false},
		{"not yet expired", with(ioc, func(e *core.Entry) { e.Expires = "2026-06-30T00:00:00Z" }), exe, true},
		{"other hash", with(ioc, func(e *core.Entry) { e.Value = tp.Sum("b") }), exe, false},
		{"cert enabled", core.Entry{Kind: core.EntryCertificate, Type: "cert-exclusion", Value: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Action: "enabled"}, exe, true},
		{"cert disabled", core.Entry{Kind: core.EntryCertificate, Type: "cert-exclusion", Value: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Action: "disabled"}, exe, false},
		{"cert unsigned file", core.Entry{Kind: core.EntryCertificate, Type: "cert-exclusion", Value: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Action: "enabled"}, with2(exe), false},
		{"ml exact, drive stripped", ml(`Program Files\CrashPlan\CrashPlanService.exe`), exe, true},
		{"ml case differs (conservative)", ml(`program files\crashplan\crashplanservice.exe`), exe, false},
		{"ml folder star", ml(`Program Files\CrashPlan\*`), exe, true},
		{"ml star stays in one folder", ml(`Program Files\*`), exe, false},
		{"ml doublestar", ml(`Program Files\**`), exe, true},
		{"ml extraction only", with(ml(`Program Files\**`), func(e *core.Entry) { e.Action = "extraction" }), exe, false},
		{"ml question literal", ml(`Program Files\CrashPlan\CrashPlanServic?.exe`), exe, false},
		{"ml posix on windows", ml(`/Program Files/**`), exe, false},
		{"ml posix", ml("/Library/Caches/CrashPlan/**"), mac, true},
		{"ml posix one level", ml("/Library/Caches/CrashPlan/*"), mac, false},
		{"ml windows pattern on mac", ml(`Library\Caches\**`), mac, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, crowdstrike.New(crowdstrike.Options{}).Allows(c.e, c.t, now))
		})
	}
}

// with2 returns the target without signers (an unsigned or invalid file).
func with2(t core.Subject) core.Subject {
	t.Signers = nil
	return t
}
