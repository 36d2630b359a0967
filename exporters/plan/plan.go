// Package plan turns two exception sets into an upgrade plan per console: for each vendor,
// the entries to add, to delete, to update and those unchanged, in the vendor's own values
// (the SHA-1 for SentinelOne, the SHA-256 for Falcon and Defender, thumbprints, paths in the
// vendor's syntax), and, for the entries to delete, the vendor's removal files (how to find
// each entry's console id and delete it).
//
// Each side is an output folder (its vendor files read back) or a policy exported in memory
// with the same options as the folder was written with. Entries are compared as the console
// holds them (exporters.EntryKey): a Defender indicator is one object whether it came from
// the CSV or the API body, a Falcon IOC one object for all its platforms.
package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/output"
)

// Plan is the upgrade plan; its JSON form is `diff --vendor --format json`.
type Plan struct {
	SchemaVersion int    `json:"schema_version"`
	Old           string `json:"old"`
	New           string `json:"new"`
	// Changes is true when some console must change (an entry to add, delete or update).
	Changes bool         `json:"changes"`
	Vendors []VendorPlan `json:"vendors"`
}

// VendorPlan is one console's part of a plan.
type VendorPlan struct {
	Vendor    string   `json:"vendor"`
	Add       []Item   `json:"add"`
	Delete    []Item   `json:"delete"`
	Update    []Update `json:"update"`
	Unchanged []Item   `json:"unchanged"`
	// Text is "N to add, N to delete, N to update, N unchanged".
	Text string `json:"text"`
}

// Item is one console entry.
type Item struct {
	Kind  exporters.EntryKind `json:"kind"`
	Type  string              `json:"type"`
	Value string              `json:"value"`
	// Platforms are the platforms it applies to (a Falcon IOC lists several; a Defender
	// indicator none: every platform).
	Platforms []string        `json:"platforms,omitempty"`
	Match     edrpolicy.Match `json:"match,omitempty"`
	Action    string          `json:"action,omitempty"`
	Expires   string          `json:"expires,omitempty"`
	// Files are the vendor files that hold it.
	Files   []string          `json:"files"`
	entries []exporters.Entry // what was read, for the removal files
}

// Update is an entry whose value stays and whose attributes change.
type Update struct {
	Old Item `json:"old"`
	New Item `json:"new"`
	// Changed names the attributes that differ: platforms, match, action, expires.
	Changed []string `json:"changed"`
}

// Text says what the update changes, one "attribute old → new" per changed attribute
// ("action allow → no_action; expires - → 2027-03-01"), "-" standing for an empty value.
func (u Update) Text() string {
	var parts []string
	for _, c := range u.Changed {
		var o, n string
		switch c {
		case "platforms":
			o, n = strings.Join(u.Old.Platforms, ","), strings.Join(u.New.Platforms, ",")
		case "match":
			o, n = string(u.Old.Match), string(u.New.Match)
		case "action":
			o, n = u.Old.Action, u.New.Action
		case "expires":
			o, n = u.Old.Expires, u.New.Expires
		}
		parts = append(parts, fmt.Sprintf("%s %s → %s", c, dash(o), dash(n)))
	}
	return strings.Join(parts, "; ")
}

// dash is s, or "-" when it is blank.
func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// Compute compares old and new entries for each vendor (lower-case names, in the order
// given; entries of other vendors are ignored).
func Compute(oldName, newName string, old, new []exporters.Entry, vendors []string) *Plan {
	p := &Plan{SchemaVersion: edrpolicy.SchemaVersion, Old: oldName, New: newName, Vendors: []VendorPlan{}}
	for _, v := range vendors {
		vp := compareVendor(v, group(v, old), group(v, new))
		p.Changes = p.Changes || len(vp.Add)+len(vp.Delete)+len(vp.Update) > 0
		p.Vendors = append(p.Vendors, vp)
	}
	return p
}

func compareVendor(v string, old, new map[string]*Item) VendorPlan {
	vp := VendorPlan{Vendor: v, Add: []Item{}, Delete: []Item{}, Update: []Update{}, Unchanged: []Item{}}
	for k, n := range new {
		o, ok := old[k]
		switch {
		case !ok:
			vp.Add = append(vp.Add, *n)
		case len(changed(o, n)) > 0:
			vp.Update = append(vp.Update, Update{Old: *o, New: *n, Changed: changed(o, n)})
		default:
			vp.Unchanged = append(vp.Unchanged, *n)
		}
	}
	for k, o := range old {
		if _, ok := new[k]; !ok {
			vp.Delete = append(vp.Delete, *o)
		}
	}
	for _, l := range [][]Item{vp.Add, vp.Delete, vp.Unchanged} {
		sortItems(l)
	}
	sort.Slice(vp.Update, func(i, j int) bool { return itemLess(vp.Update[i].New, vp.Update[j].New) })
	vp.Text = fmt.Sprintf("%s: %d to add, %d to delete, %d to update, %d unchanged", v, len(vp.Add), len(vp.Delete), len(vp.Update), len(vp.Unchanged))
	return vp
}

// group gathers vendor v's entries into console items by exporters.EntryKey.
func group(v string, es []exporters.Entry) map[string]*Item {
	out := map[string]*Item{}
	for _, e := range es {
		if e.Vendor != v {
			continue
		}
		k := exporters.EntryKey(e)
		it, ok := out[k]
		if !ok {
			it = &Item{Kind: e.Kind, Type: e.Type, Value: e.Value, Match: e.Match}
			out[k] = it
		}
		if it.Type == "cer" {
			it.Type = e.Type // a .cer upload and its CertificateThumbprint indicator: name the indicator
		}
		if !(e.Vendor == "defender" && (e.Kind == exporters.EntryHash || e.Kind == exporters.EntryCertificate)) {
			// A Defender indicator has no platform (a .cer upload says windows because
			// certificate indicators apply there only); other entries' platforms count.
			it.Platforms = addSorted(it.Platforms, string(e.Platform))
		}
		it.Files = addSorted(it.Files, e.File)
		if it.Action == "" {
			it.Action = e.Action
		}
		if it.Expires == "" {
			it.Expires = e.Expires
		}
		it.entries = append(it.entries, e)
	}
	return out
}

func addSorted(xs []string, x string) []string {
	if x == "" {
		return xs
	}
	i := sort.SearchStrings(xs, x)
	if i < len(xs) && xs[i] == x {
		return xs
	}
	return append(xs[:i], append([]string{x}, xs[i:]...)...)
}

// changed names the attributes of a console entry that differ.
func changed(o, n *Item) []string {
	var out []string
	if strings.Join(o.Platforms, ",") != strings.Join(n.Platforms, ",") {
		out = append(out, "platforms")
	}
	if o.Match != n.Match {
		out = append(out, "match")
	}
	if o.Action != n.Action {
		out = append(out, "action")
	}
	if o.Expires != n.Expires {
		out = append(out, "expires")
	}
	return out
}

func itemLess(a, b Item) bool {
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	if a.Value != b.Value {
		return a.Value < b.Value
	}
	return strings.Join(a.Platforms, ",") < strings.Join(b.Platforms, ",")
}

func sortItems(xs []Item) { sort.Slice(xs, func(i, j int) bool { return itemLess(xs[i], xs[j]) }) }

// Remover is implemented by the exporters that can write removal files (the built-in ones).
type Remover interface {
	Removal(es []exporters.Entry) ([]output.File, error)
}

// RemovalFiles returns each vendor's removal files for its entries to delete (none for a
// vendor with nothing to delete). A vendor whose exporter writes no removal files is an
// error.
func (p *Plan) RemovalFiles(reg *exporters.Registry) ([]output.File, error) {
	var out []output.File
	for _, vp := range p.Vendors {
		if len(vp.Delete) == 0 {
			continue
		}
		e, ok := reg.Lookup(vp.Vendor)
		rm, isRemover := e.(Remover)
		if !ok || !isRemover {
			return nil, fmt.Errorf("%s: no removal files for this vendor", vp.Vendor)
		}
		var es []exporters.Entry
		for _, it := range vp.Delete {
			es = append(es, it.entries...)
		}
		files, err := rm.Removal(es)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}
