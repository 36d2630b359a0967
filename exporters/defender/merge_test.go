package defender_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
)

// Existing managed configurations, written after Microsoft's documentation and samples
// (linux-preferences, mac-preferences, mdatp-xplat linux/configs/mdatp_managed.json and
// macos/settings/*): other antivirusEngine settings, existing exclusions (one of them one of
// ours), tamperProtection, edr tags, Microsoft's repeated "info" keys.
const linuxManaged = `{
    "antivirusEngine":{
          "info": "only works when the enforcement level is set to real_time",
        "enforcementLevel":"real_time",
        "behaviorMonitoring" : "enabled",
        "scanArchives":true,
        "maximumOnDemandScanThreads":2,
        "exclusionsMergePolicy":"merge",
        "threatTypeSettings":[
            {"key":"potentially_unwanted_application","value":"block"},
            {"key":"archive_bomb","value":"audit"}
        ],
        "scanHistoryMaximumItems": 5000
    },
    "exclusionSettings": {
          "info": " which epp exclusion policy to apply",
          "possible values": "merge(default), admin_only",
        "mergePolicy":"admin_only",
          "info": "Entities that need to be excluded",
        "exclusions":[
            {"$type": "excludedPath", "isDirectory": true, "path": "/var/log/app", "scopes":["epp","global"]},
            {"$type":"excludedFileExtension", "extension":".pdf", "scopes": [ "epp" ]},
            {"$type": "excludedFileName", "name":"cat", "scopes":["epp","global"]},
            {"$type": "excludedPath", "isDirectory": true, "path": "/usr/local/crashplan/cache", "scopes":["epp"]}
        ]
    },
    "cloudService":{"enabled":true, "diagnosticLevel":"optional", "automaticSampleSubmissionConsent": "safe"},
    "edr":{"groupIds":"GroupIdExample", "tags": [{"key": "GROUP", "value": "Tag"}]}
}
`

// linuxLegacy keeps its exclusions in the older antivirusEngine form.
const linuxLegacy = `{
  "antivirusEngine": {
    "enforcementLevel": "on_demand",
    "exclusions": [
      {"$type": "excludedPath", "isDirectory": false, "path": "/opt/other/bin/agent"}
    ]
  },
  "cloudService": {"enabled": false}
}
`

// linuxNoExclusions has none: exclusionSettings is added.
const linuxNoExclusions = `{"cloudService": {"enabled": true, "proxy": "http://proxy.example:8080/"}, "features": {"offlineDefinitionUpdate": "enabled"}}`

const wdavPlist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>antivirusEngine</key>
    <dict>
        <key>enforcementLevel</key>
        <string>real_time</string>
        <key>enableRealTimeProtection</key>
        <true/>
        <key>passiveMode</key>
        <false/>
        <key>exclusions</key>
        <array>
            <dict>
                <key>$type</key>
                <string>excludedPath</string>
                <key>isDirectory</key>
                <true/>
                <key>path</key>
                <string>/Applications/Other.app</string>
            </dict>
            <dict>
                <key>$type</key>
                <string>excludedFileExtension</string>
                <key>extension</key>
                <string>pdf</string>
            </dict>
            <dict>
                <key>$type</key>
                <string>excludedFileName</string>
                <key>name</key>
                <string>cat</string>
            </dict>
            <dict>
                <key>$type</key>
                <string>excludedPath</string>
                <key>isDirectory</key>
                <true/>
                <key>path</key>
                <string>/Library/Caches/CrashPlan</string>
            </dict>
        </array>
        <key>exclusionsMergePolicy</key>
        <string>admin_only</string>
        <key>allowedThreats</key>
        <array>
            <string>EICAR-Test-File (not a virus)</string>
        </array>
    </dict>
    <key>cloudService</key>
    <dict>
        <key>enabled</key>
        <true/>
        <key>diagnosticLevel</key>
        <string>optional</string>
    </dict>
    <key>tamperProtection</key>
    <dict>
        <key>enforcementLevel</key>
        <string>block</string>
        <key>exclusions</key>
        <array>
            <dict>
                <key>path</key>
                <string>/usr/local/jamf/bin/jamf</string>
                <key>teamId</key>
                <string>483DWKW443</string>
                <key>signingId</key>
                <string>com.jamfsoftware.jamf</string>
                <key>args</key>
                <array>
                    <string>policy</string>
                </array>
            </dict>
        </array>
    </dict>
    <key>edr</key>
    <dict>
        <key>tags</key>
        <array>
            <dict>
                <key>key</key>
                <string>GROUP</string>
                <key>value</key>
                <string>ExampleTag</string>
            </dict>
        </array>
    </dict>
    <key>userInterface</key>
    <dict>
        <key>hideStatusMenuIcon</key>
        <false/>
    </dict>
</dict>
</plist>
`

// mobileconfig builds a configuration profile with several payloads: full disk access
// (TCC), notifications, a root certificate (data), and the com.microsoft.wdav payload
// holding the wdav dictionary of wdavPlist; wdavCount of them.
func mobileconfig(t *testing.T, wdavCount int) []byte {
	t.Helper()
	var wdav map[string]any
	_, err := plist.Unmarshal([]byte(wdavPlist), &wdav)
	require.NoError(t, err)
	content := []any{
		map[string]any{"PayloadType": "com.apple.TCC.configuration-profile-policy", "PayloadIdentifier": "com.microsoft.wdav.tcc", "PayloadUUID": "C234DF2E-DFF6-11E9-B279-001C4299FB44", "PayloadVersion": uint64(1),
			"Services": map[string]any{"SystemPolicyAllFiles": []any{map[string]any{"Allowed": true, "CodeRequirement": `identifier "com.microsoft.wdav" and anchor apple generic`, "Identifier": "com.microsoft.wdav", "IdentifierType": "bundleID"}}}},
		map[string]any{"PayloadType": "com.apple.notificationsettings", "PayloadIdentifier": "com.microsoft.wdav.notif", "PayloadUUID": "BB977315-E4CB-4915-90C7-8334C75A7C64", "PayloadVersion": uint64(1),
			"NotificationSettings": []any{map[string]any{"BundleIdentifier": "com.microsoft.wdav.tray", "AlertType": uint64(2), "BadgesEnabled": true}}},
		map[string]any{"PayloadType": "com.apple.security.root", "PayloadIdentifier": "com.example.root", "PayloadUUID": "0F4C1F8E-1111-4E6E-9B1B-4B5B0F0D2A11", "PayloadVersion": uint64(1),
			"PayloadContent": []byte{0x30, 0x82, 0x01, 0x0a, 0xde, 0xad}},
	}
	for i := 0; i < wdavCount; i++ {
		p := map[string]any{"PayloadType": "com.microsoft.wdav", "PayloadIdentifier": "com.microsoft.wdav", "PayloadUUID": "99DBC2BC-3B3A-46A2-A413-C8F9BB9A7295", "PayloadVersion": uint64(1), "PayloadEnabled": true}
		for k, v := range wdav {
			p[k] = v
		}
		content = append(content, p)
	}
	top := map[string]any{"PayloadType": "Configuration", "PayloadIdentifier": "com.microsoft.wdav", "PayloadUUID": "C4E6A782-0C8D-44AB-A025-EB893987A295",
		"PayloadDisplayName": "Microsoft Defender for Endpoint settings", "PayloadScope": "System", "PayloadVersion": uint64(1), "PayloadRemovalDisallowed": true, "PayloadContent": content}
	data, err := plist.MarshalIndent(top, plist.XMLFormat, "    ")
	require.NoError(t, err)
	return data
}

func linuxPolicy() *edrpolicy.Policy {
	p := tp.Linux()
	p.Rules = p.Rules[:3] // the hash rule, the cache folder, the service's exact path
	return p
}

func macPolicy(t *testing.T) *edrpolicy.Policy {
	p := tp.Mac(t)
	p.Rules = append(p.Rules[:1], p.Rules[2:]...) // no signer rule: the antivirus exclusions are what is merged
	return p
}

func mergeExport(t *testing.T, p *edrpolicy.Policy, name string, base []byte) (map[string][]byte, []edrpolicy.Warning) {
	t.Helper()
	return exportWith(t, defender.Options{MergeWith: base, MergeName: name}, p, core.Options{})
}

// The Linux file: every member kept in its order with its value as written (repeated "info"
// keys too), exclusionSettings.exclusions gets our two exclusions minus the one already
// there, mergePolicy admin_only kept.
func TestMergeLinuxManaged(t *testing.T) {
	files, warns := mergeExport(t, linuxPolicy(), "mdatp_managed.json", []byte(linuxManaged))
	out := files["mdatp_managed.json"]
	require.NotEmpty(t, out)
	assert.NotContains(t, files, "mdatp_managed.README.txt", "merged: nothing left to say")
	before, after := members(t, []byte(linuxManaged)), members(t, out)
	require.Equal(t, keys(before), keys(after), "top-level members and order kept")
	for i := range before {
		if before[i].key != "exclusionSettings" {
			assert.JSONEq(t, string(before[i].val), string(after[i].val), before[i].key)
		}
	}
	es := after[1].val
	esBefore := members(t, before[1].val)
	esAfter := members(t, es)
	assert.Equal(t, keys(esBefore), keys(esAfter), "exclusionSettings members (info, possible values, mergePolicy, info, exclusions) kept")
	var pol struct {
		MergePolicy string            `json:"mergePolicy"`
		Exclusions  []json.RawMessage `json:"exclusions"`
	}
	require.NoError(t, json.Unmarshal(es, &pol))
	assert.Equal(t, "admin_only", pol.MergePolicy)
	var oldEx []json.RawMessage
	require.NoError(t, json.Unmarshal(memberVal(esBefore, "exclusions"), &oldEx))
	require.Len(t, pol.Exclusions, len(oldEx)+1, "one new exclusion; the cache folder was already there")
	for i := range oldEx {
		assert.JSONEq(t, string(oldEx[i]), string(pol.Exclusions[i]))
	}
	assert.JSONEq(t, `{"$type":"excludedPath","isDirectory":false,"path":"/usr/local/crashplan/bin/CrashPlanService","scopes":["epp"]}`, string(pol.Exclusions[len(oldEx)]))
	assert.True(t, hasWarning(warns, core.WarnNote, "/usr/local/crashplan/cache was already in exclusionSettings.exclusions"))
	assert.True(t, hasWarning(warns, core.WarnNote, `exclusionSettings.mergePolicy is "admin_only" in the existing file: kept`))
	validate(t, out)

	// Determinism and idempotence: merging into the merged file changes nothing.
	again, _ := mergeExport(t, linuxPolicy(), "mdatp_managed.json", out)
	assert.Equal(t, string(out), string(again["mdatp_managed.json"]))
}

func TestMergeLinuxOtherForms(t *testing.T) {
	files, _ := mergeExport(t, linuxPolicy(), "legacy.json", []byte(linuxLegacy))
	var legacy struct {
		AntivirusEngine struct {
			EnforcementLevel      string           `json:"enforcementLevel"`
			Exclusions            []map[string]any `json:"exclusions"`
			ExclusionsMergePolicy string           `json:"exclusionsMergePolicy"`
		} `json:"antivirusEngine"`
		CloudService      map[string]any `json:"cloudService"`
		ExclusionSettings any            `json:"exclusionSettings"`
	}
	require.NoError(t, json.Unmarshal(files["mdatp_managed.json"], &legacy))
	ae := legacy.AntivirusEngine
	assert.Equal(t, "on_demand", ae.EnforcementLevel)
	require.Len(t, ae.Exclusions, 3, "the older form gets our exclusions, without scopes")
	assert.Equal(t, "/opt/other/bin/agent", ae.Exclusions[0]["path"])
	assert.Equal(t, "/usr/local/crashplan/cache", ae.Exclusions[1]["path"])
	assert.NotContains(t, ae.Exclusions[1], "scopes")
	assert.Equal(t, "merge", ae.ExclusionsMergePolicy, "absent before: ours")
	assert.Nil(t, legacy.ExclusionSettings, "no second exclusion list next to the one the file uses")
	assert.Equal(t, map[string]any{"enabled": false}, legacy.CloudService)
	validate(t, files["mdatp_managed.json"])

	files, _ = mergeExport(t, linuxPolicy(), "plain.json", []byte(linuxNoExclusions))
	after := members(t, files["mdatp_managed.json"])
	assert.Equal(t, []string{"cloudService", "features", "exclusionSettings"}, keys(after))
	assert.JSONEq(t, `{"enabled": true, "proxy": "http://proxy.example:8080/"}`, string(after[0].val), "URL kept as written (no HTML escaping)")
	assert.Contains(t, string(files["mdatp_managed.json"]), `"http://proxy.example:8080/"`)
	validate(t, files["mdatp_managed.json"])
}

// The wdav plist: every key kept with its type, our exclusions appended minus the one
// already there, exclusionsMergePolicy admin_only kept, tamperProtection untouched.
func TestMergeWDAVPlist(t *testing.T) {
	files, warns := mergeExport(t, macPolicy(t), "com.microsoft.wdav.plist", []byte(wdavPlist))
	out := files["com.microsoft.wdav.plist"]
	require.NotEmpty(t, out)
	var before, after map[string]any
	_, err := plist.Unmarshal([]byte(wdavPlist), &before)
	require.NoError(t, err)
	_, err = plist.Unmarshal(out, &after)
	require.NoError(t, err)
	checkWDAVMerged(t, before, after)
	assert.True(t, hasWarning(warns, core.WarnNote, "exclusionsMergePolicy is admin_only in the existing file: kept"))
	assert.NotContains(t, string(out), "<!-- edrpolicy", "merged: not the stand-alone file's note")
	validate(t, plistJSON(t, after))
}

// checkWDAVMerged: after is before with two exclusions added (the log folder and the exact
// path; the cache folder was there).
func checkWDAVMerged(t *testing.T, before, after map[string]any) {
	t.Helper()
	bae, aae := before["antivirusEngine"].(map[string]any), after["antivirusEngine"].(map[string]any)
	oldEx, newEx := bae["exclusions"].([]any), aae["exclusions"].([]any)
	require.Len(t, newEx, len(oldEx)+2)
	assert.Equal(t, oldEx, newEx[:len(oldEx)], "existing exclusions kept, in order")
	assert.Equal(t, []any{
		map[string]any{"$type": "excludedPath", "isDirectory": true, "path": "/Users/*/Library/Logs/CrashPlan"},
		map[string]any{"$type": "excludedPath", "isDirectory": false, "path": "/Applications/CrashPlan.app/Contents/MacOS/CrashPlan"},
	}, newEx[len(oldEx):])
	delete(bae, "exclusions")
	delete(aae, "exclusions")
	assert.Equal(t, before, after, "every other key and value kept")
}

// A .mobileconfig with several payloads: only the com.microsoft.wdav payload changes.
func TestMergeMobileconfig(t *testing.T) {
	base := mobileconfig(t, 1)
	files, _ := mergeExport(t, macPolicy(t), "Defender.mobileconfig", base)
	out := files[defender.MobileconfigName]
	require.NotEmpty(t, out)
	assert.NotContains(t, files, "com.microsoft.wdav.plist", "one managed configuration: the merged profile only")
	var before, after map[string]any
	_, err := plist.Unmarshal(base, &before)
	require.NoError(t, err)
	_, err = plist.Unmarshal(out, &after)
	require.NoError(t, err)
	bc, ac := before["PayloadContent"].([]any), after["PayloadContent"].([]any)
	require.Len(t, ac, len(bc))
	for i := 0; i < 3; i++ {
		assert.Equal(t, bc[i], ac[i], "payload %d untouched (data and integers too)", i)
	}
	checkWDAVMerged(t, bc[3].(map[string]any), ac[3].(map[string]any))
	delete(before, "PayloadContent")
	delete(after, "PayloadContent")
	assert.Equal(t, before, after, "profile keys kept")
	validate(t, plistJSON(t, ac[3].(map[string]any)))

	// The merged profile's entries name the file they are in.
	res, err := tp.Collect(defender.New(defender.Options{MergeWith: base, MergeName: "Defender.mobileconfig"}), macPolicy(t), core.Options{})
	require.NoError(t, err)
	var inProfile int
	for _, e := range res.Entries {
		if e.File == defender.MobileconfigName {
			inProfile++
		}
	}
	assert.Equal(t, 3, inProfile, "the three exclusions, the one already there included")
}

func TestMergeRefusals(t *testing.T) {
	signed := append([]byte{0x30, 0x80, 0x06, 0x09}, mobileconfig(t, 1)...)
	for name, c := range map[string]struct {
		p    *edrpolicy.Policy
		base []byte
		o    core.Options
		want string
	}{
		"signed profile":     {macPolicy(t), signed, core.Options{}, "a signed configuration profile"},
		"two wdav payloads":  {macPolicy(t), mobileconfig(t, 2), core.Options{}, "2 payloads with PayloadType com.microsoft.wdav"},
		"no wdav payload":    {macPolicy(t), mobileconfig(t, 0), core.Options{}, "no payload with PayloadType com.microsoft.wdav"},
		"json for mac":       {macPolicy(t), []byte(linuxManaged), core.Options{}, "the policy's antivirus exclusions are for macOS"},
		"plist for linux":    {linuxPolicy(), []byte(wdavPlist), core.Options{}, "the policy's antivirus exclusions are for Linux"},
		"duplicate key":      {linuxPolicy(), []byte(`{"exclusionSettings":{},"exclusionSettings":{}}`), core.Options{}, `holds "exclusionSettings" twice`},
		"exclusions object":  {linuxPolicy(), []byte(`{"exclusionSettings":{"exclusions":{}}}`), core.Options{}, "exclusionSettings.exclusions: not an array"},
		"garbage":            {linuxPolicy(), []byte("not a configuration"), core.Options{}, "neither an mdatp_managed.json object nor a property list"},
		"trailing data":      {linuxPolicy(), []byte(`{} {}`), core.Options{}, "data after the JSON object"},
		"format leaves json": {linuxPolicy(), []byte(linuxManaged), core.Options{Formats: []string{"csv"}}, "the formats asked for leave out json"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := tp.Run(defender.New(defender.Options{MergeWith: c.base, MergeName: "existing"}), c.p, c.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), "Defender.MergeWith \"existing\"")
		})
	}
}

// Without --defender-merge: the plist says in its header that it must be merged, and
// mdatp_managed.json comes with a README and a warning saying so; both validate.
func TestStandAloneManagedFilesSayMerge(t *testing.T) {
	files, _ := export(t, macPolicy(t), core.Options{})
	assert.Contains(t, string(files["com.microsoft.wdav.plist"]), "A Mac takes ONE managed configuration for com.microsoft.wdav")
	var w map[string]any
	_, err := plist.Unmarshal(files["com.microsoft.wdav.plist"], &w)
	require.NoError(t, err, "the comment keeps the plist valid")
	validate(t, plistJSON(t, w))

	files, warns := export(t, linuxPolicy(), core.Options{})
	assert.Contains(t, string(files["mdatp_managed.README.txt"]), "--defender-merge")
	assert.True(t, hasWarning(warns, core.WarnNote, "merge it into the device's existing file"))
	validate(t, files["mdatp_managed.json"])
}

type member struct {
	key string
	val json.RawMessage
}

// members reads a JSON object's members in order, duplicates included.
func members(t *testing.T, data []byte) []member {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var out []member
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
		out = append(out, member{k.(string), v})
	}
	return out
}

func keys(ms []member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.key)
	}
	return out
}

func memberVal(ms []member, key string) json.RawMessage {
	for _, m := range ms {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// plistJSON is a decoded plist as JSON, for the schema.
func plistJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

// validate checks a managed configuration against the test schema (testdata/schema, see its
// README) and, when EDRPOLICY_MDATP_SCHEMA names a copy of Microsoft's published schema, against
// that too; each exclusionSettings item (the Linux form, which Microsoft's macOS schema does not
// describe) is checked against its antivirusEngine exclusion item.
func validate(t *testing.T, data []byte) {
	t.Helper()
	require.NoError(t, validateErr(t, data), "%s", data)
}

func validateErr(t *testing.T, data []byte) error {
	t.Helper()
	schemas := []string{filepath.Join("testdata", "schema", "managed-settings.schema.json")}
	if ms := os.Getenv("EDRPOLICY_MDATP_SCHEMA"); ms != "" {
		schemas = append(schemas, ms)
	}
	for _, file := range schemas {
		if err := validateWith(t, file, data); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(file), err)
		}
	}
	return nil
}

func validateWith(t *testing.T, file string, data []byte) error {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("schema.json", doc))
	sch, err := c.Compile("schema.json")
	require.NoError(t, err)
	item, err := c.Compile("schema.json#/properties/antivirusEngine/properties/exclusions/items")
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	if err := sch.Validate(inst); err != nil {
		return err
	}
	var es struct {
		ExclusionSettings struct {
			Exclusions []json.RawMessage `json:"exclusions"`
		} `json:"exclusionSettings"`
	}
	if err := json.Unmarshal(data, &es); err != nil {
		return err
	}
	for _, e := range es.ExclusionSettings.Exclusions {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(e))
		if err != nil {
			return err
		}
		if err := item.Validate(v); err != nil {
			return err
		}
	}
	return nil
}

// The schema check can fail: values Microsoft documents as invalid are rejected.
func TestSchemaRejects(t *testing.T) {
	for _, bad := range []string{
		`{"antivirusEngine":{"exclusionsMergePolicy":"replace"}}`,
		`{"antivirusEngine":{"exclusions":[{"$type":"excludedPath","isDirectory":"false","path":"/x"}]}}`,
		`{"antivirusEngine":{"exclusions":[{"$type":"excludedThing","path":"/x"}]}}`,
		`{"antivirusEngine":{"exclusions":[{"$type":"excludedPath","isDirectory":false,"path":""}]}}`,
		`{"exclusionSettings":{"exclusions":[{"$type":"excludedPath","isDirectory":1,"path":"/x","scopes":["epp"]}]}}`,
		`{"tamperProtection":{"enforcementLevel":"off"}}`,
	} {
		assert.Error(t, validateErr(t, []byte(bad)), bad)
	}
}
