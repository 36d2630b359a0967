package defender

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/internal/jsonout"
	"github.com/edrpolicy/edrpolicy/signers/safeplist"
)

// A device has one managed configuration for Defender: on macOS one configuration profile
// payload for the com.microsoft.wdav domain (a second one conflicts: "Conflicting
// configuration payloads ... will be lost", Microsoft's analyze_profiles.py in
// mdatp-xplat), on Linux one /etc/opt/microsoft/mdatp/managed/mdatp_managed.json (a second
// file replaces the first). Options.MergeWith merges the exclusions into the
// existing one instead: every other setting and exclusion is kept, mergePolicy too.

// MergeKind is the kind of existing managed configuration given to merge into.
type MergeKind int

// Merge kinds.
const (
	MergeJSON         MergeKind = iota + 1 // mdatp_managed.json (Linux)
	MergePlist                             // a com.microsoft.wdav preference plist (macOS)
	MergeMobileconfig                      // a .mobileconfig with a com.microsoft.wdav payload (macOS)
)

// MobileconfigName is the output name of a merged .mobileconfig.
const MobileconfigName = "com.microsoft.wdav.mobileconfig"

// mergeErr is a refusal of the merge base (Options.MergeWith, named by MergeName).
func mergeErr(name string, err error) error {
	return &edrpolicy.OptionError{Field: "Defender.MergeWith", Value: name, Reason: err.Error(), Err: err}
}

// mergeKind tells what data is: JSON (an object), a signed profile (refused), or a plist.
func mergeKind(name string, data []byte) (MergeKind, error) {
	trim := bytes.TrimLeft(data, " \t\r\n\ufeff")
	switch {
	case len(trim) == 0:
		return 0, mergeErr(name, errors.New("empty file"))
	case trim[0] == '{':
		return MergeJSON, nil
	case trim[0] == 0x30:
		return 0, mergeErr(name, errors.New("a signed configuration profile (CMS): a signed profile cannot be changed without breaking its signature; give the unsigned profile (export it from your MDM, or `security cms -D -i FILE` on a Mac), then sign the merged file again"))
	}
	var top map[string]any
	if _, err := safeplist.Unmarshal(data, &top); err != nil {
		return 0, mergeErr(name, fmt.Errorf("neither an mdatp_managed.json object nor a property list: %w", err))
	}
	if _, ok := top["PayloadContent"]; ok {
		return MergeMobileconfig, nil
	}
	return MergePlist, nil
}

// exclusionKey identifies an exclusion for duplicate detection: its type and what it names
// (isDirectory and scopes aside).
type exclusionKey struct{ typ, path, name, ext string }

func keyOf(typ, path, name, ext string) exclusionKey {
	return exclusionKey{typ: typ, path: path, name: name, ext: ext}
}

// jsonMember is one member of a JSON object, its value kept as written.
type jsonMember struct {
	key string
	val json.RawMessage
}

// parseObject reads a JSON object keeping its members' order, duplicate keys (Microsoft's
// own sample repeats "info") and values as written.
func parseObject(data []byte) ([]jsonMember, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []jsonMember
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, jsonMember{key: kt.(string), val: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

// encodeObject writes members as a compact JSON object.
func encodeObject(ms []jsonMember) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(m.key))
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func jsonString(s string) []byte {
	b, _ := jsonout.Compact(s) // a string always encodes
	return b
}

func rawJSON(v any) json.RawMessage {
	b, _ := jsonout.Compact(v) // our own types always encode
	return b
}

// member returns the index of the only member named key, -1 when there is none, or an error
// when the key appears more than once (which one a device reads is not documented).
func member(ms []jsonMember, key, where string) (int, error) {
	at := -1
	for i, m := range ms {
		if m.key == key {
			if at >= 0 {
				return 0, fmt.Errorf("%s holds %q twice: which one Defender reads is not documented; keep one", where, key)
			}
			at = i
		}
	}
	return at, nil
}

// mergeJSON merges Linux exclusions into an existing mdatp_managed.json: into
// exclusionSettings.exclusions when the file has exclusionSettings, else into
// antivirusEngine.exclusions when the file keeps its exclusions there (the older form, whose
// items have no scopes), else as a new exclusionSettings. Existing members, their order and
// mergePolicy are kept; an exclusion already there is not added twice. It returns the file
// and notes on what was kept.
func mergeJSON(base []byte, ours []LinuxExclusion, mergePolicy string) ([]byte, []string, error) {
	top, err := parseObject(base)
	if err != nil {
		return nil, nil, err
	}
	es, err := member(top, "exclusionSettings", "the file")
	if err != nil {
		return nil, nil, err
	}
	ae, err := member(top, "antivirusEngine", "the file")
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	switch {
	case es >= 0:
		top[es].val, notes, err = mergeSection(top[es].val, "exclusionSettings", "mergePolicy", ours, true, mergePolicy)
	case ae >= 0 && hasMember(top[ae].val, "exclusions"):
		top[ae].val, notes, err = mergeSection(top[ae].val, "antivirusEngine", "exclusionsMergePolicy", ours, false, mergePolicy)
	default:
		top = append(top, jsonMember{key: "exclusionSettings", val: rawJSON(ExclusionSettings{Exclusions: ours, MergePolicy: mergePolicy})})
	}
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, encodeObject(top), "", "  "); err != nil {
		return nil, nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), notes, nil
}

func hasMember(obj json.RawMessage, key string) bool {
	ms, err := parseObject(obj)
	if err != nil {
		return false
	}
	i, err := member(ms, key, "")
	return err == nil && i >= 0
}

// mergeSection appends ours to the exclusions array of one section (exclusionSettings or
// antivirusEngine) and keeps its merge policy member, or adds ours when it has none.
func mergeSection(sec json.RawMessage, name, policyKey string, ours []LinuxExclusion, scopes bool, mergePolicy string) (json.RawMessage, []string, error) {
	ms, err := parseObject(sec)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", name, err)
	}
	ex, err := member(ms, "exclusions", name)
	if err != nil {
		return nil, nil, err
	}
	var items []json.RawMessage
	if ex >= 0 {
		if err := json.Unmarshal(ms[ex].val, &items); err != nil {
			return nil, nil, fmt.Errorf("%s.exclusions: not an array: %v", name, err)
		}
	}
	have := map[exclusionKey]bool{}
	for _, it := range items {
		var e struct {
			Type      string `json:"$type"`
			Path      string `json:"path"`
			Name      string `json:"name"`
			Extension string `json:"extension"`
		}
		if json.Unmarshal(it, &e) == nil {
			have[keyOf(e.Type, e.Path, e.Name, e.Extension)] = true
		}
	}
	var notes []string
	for _, o := range ours {
		if have[keyOf(o.Type, o.Path, o.Name, "")] {
			notes = append(notes, fmt.Sprintf("%s %s%s was already in %s.exclusions: kept as it was", o.Type, o.Path, o.Name, name))
			continue
		}
		if !scopes {
			o.Scopes = nil
			items = append(items, rawJSON(legacyExclusion(o)))
			continue
		}
		items = append(items, rawJSON(o))
	}
	if ex >= 0 {
		ms[ex].val = rawJSON(items)
	} else {
		ms = append(ms, jsonMember{key: "exclusions", val: rawJSON(items)})
	}
	notes = append(notes, keepPolicy(&ms, name, policyKey, mergePolicy)...)
	return encodeObject(ms), notes, nil
}

// legacyExclusion is an antivirusEngine.exclusions item: the same shape without scopes.
func legacyExclusion(o LinuxExclusion) any {
	return struct {
		Type        string `json:"$type"`
		IsDirectory *bool  `json:"isDirectory,omitempty"`
		Path        string `json:"path,omitempty"`
		Name        string `json:"name,omitempty"`
	}{o.Type, o.IsDirectory, o.Path, o.Name}
}

// keepPolicy keeps the section's merge policy, or adds ours when it has none.
func keepPolicy(ms *[]jsonMember, name, key, ours string) []string {
	i, err := member(*ms, key, name)
	if err != nil || i < 0 {
		*ms = append(*ms, jsonMember{key: key, val: rawJSON(ours)})
		return nil
	}
	var have string
	if json.Unmarshal((*ms)[i].val, &have) == nil && have != ours {
		return []string{fmt.Sprintf("%s.%s is %q in the existing file: kept (the merge policy %q asked for was not applied)", name, key, have, ours)}
	}
	return nil
}

// mergePlist merges macOS exclusions into an existing com.microsoft.wdav plist or into the
// com.microsoft.wdav payload of a .mobileconfig: antivirusEngine.exclusions gets ours that
// are not there yet, exclusionsMergePolicy is kept (or set when absent), every other key is
// kept. The result is an XML plist (dictionary keys sorted; comments in the input are not
// kept).
func mergePlist(base []byte, kind MergeKind, ours []MacExclusion, mergePolicy string) ([]byte, []string, error) {
	var top map[string]any
	if _, err := safeplist.Unmarshal(base, &top); err != nil {
		return nil, nil, err
	}
	target := top
	if kind == MergeMobileconfig {
		var err error
		if target, err = wdavPayload(top); err != nil {
			return nil, nil, err
		}
	}
	notes, err := mergeWDAV(target, ours, mergePolicy)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	enc := plist.NewEncoderForFormat(&buf, plist.XMLFormat)
	enc.Indent("\t")
	if err := enc.Encode(top); err != nil {
		return nil, nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), notes, nil
}

// wdavPayload returns the one com.microsoft.wdav payload of a configuration profile.
func wdavPayload(top map[string]any) (map[string]any, error) {
	content, ok := top["PayloadContent"].([]any)
	if !ok {
		return nil, errors.New("PayloadContent is not an array of payloads")
	}
	var found []map[string]any
	for _, c := range content {
		if d, ok := c.(map[string]any); ok && d["PayloadType"] == "com.microsoft.wdav" {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return nil, errors.New("no payload with PayloadType com.microsoft.wdav (an MCX com.apple.ManagedClient.preferences payload is not supported: convert it to a com.microsoft.wdav payload)")
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%d payloads with PayloadType com.microsoft.wdav: a device takes one; merge them first", len(found))
}

// mergeWDAV merges ours into the antivirusEngine of a com.microsoft.wdav dictionary.
func mergeWDAV(wdav map[string]any, ours []MacExclusion, mergePolicy string) ([]string, error) {
	ae, ok := wdav["antivirusEngine"].(map[string]any)
	if !ok {
		if _, exists := wdav["antivirusEngine"]; exists {
			return nil, errors.New("antivirusEngine is not a dictionary")
		}
		ae = map[string]any{}
		wdav["antivirusEngine"] = ae
	}
	var items []any
	if v, exists := ae["exclusions"]; exists {
		if items, ok = v.([]any); !ok {
			return nil, errors.New("antivirusEngine.exclusions is not an array")
		}
	}
	have := map[exclusionKey]bool{}
	for _, it := range items {
		if d, ok := it.(map[string]any); ok {
			have[keyOf(str(d["$type"]), str(d["path"]), str(d["name"]), str(d["extension"]))] = true
		}
	}
	var notes []string
	for _, o := range ours {
		if have[keyOf(o.Type, o.Path, o.Name, "")] {
			notes = append(notes, fmt.Sprintf("%s %s%s was already in antivirusEngine.exclusions: kept as it was", o.Type, o.Path, o.Name))
			continue
		}
		d := map[string]any{"$type": o.Type}
		if o.IsDirectory != nil {
			d["isDirectory"] = *o.IsDirectory
		}
		if o.Path != "" {
			d["path"] = o.Path
		}
		if o.Name != "" {
			d["name"] = o.Name
		}
		items = append(items, d)
	}
	ae["exclusions"] = items
	switch have := ae["exclusionsMergePolicy"]; {
	case have == nil:
		ae["exclusionsMergePolicy"] = mergePolicy
	case have != mergePolicy:
		notes = append(notes, fmt.Sprintf("antivirusEngine.exclusionsMergePolicy is %v in the existing file: kept (the merge policy %q asked for was not applied)", have, mergePolicy))
	}
	return notes, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// mergeNote is the header comment of a com.microsoft.wdav.plist written without
// --defender-merge. XML comments cannot hold "--", so the flag is named without its dashes.
const mergeNote = "<!-- edrpolicy: Microsoft Defender antivirus exclusions for the com.microsoft.wdav domain.\n" +
	"     A Mac takes ONE managed configuration for com.microsoft.wdav: a second profile for it\n" +
	"     conflicts with the first. Do not deploy this file beside your existing Defender profile:\n" +
	"     merge these exclusions into it (edrpolicy export with the defender-merge option and your\n" +
	"     existing .mobileconfig or plist writes the merged file). -->\n"

// withMergeNote inserts mergeNote after the plist's DOCTYPE line.
func withMergeNote(xml []byte) []byte {
	s := string(xml)
	i := strings.Index(s, "<plist")
	if i < 0 {
		return xml
	}
	return []byte(s[:i] + mergeNote + s[i:])
}

// readmeName is the note written beside an mdatp_managed.json made without --defender-merge.
const readmeName = "mdatp_managed.README.txt"

const readme = `mdatp_managed.json: Microsoft Defender for Endpoint on Linux antivirus exclusions,
generated by edrpolicy.

A device reads ONE managed configuration: /etc/opt/microsoft/mdatp/managed/mdatp_managed.json.
Copying this file there replaces whatever configuration the device already has (other
antivirus settings, exclusions, tags). Do not deploy it as it is when the device has one:
merge it instead, with

    edrpolicy export --vendor defender --defender-merge /path/to/existing/mdatp_managed.json --out DIR policy.json

(or generate ... --defender-merge FILE), which writes DIR/mdatp_managed.json: the existing
file with these exclusions added, every other setting and exclusion kept, no duplicates,
its mergePolicy kept.

These are antivirus (epp) exclusions: they do not stop EDR alerts; the indicators do that.
`
