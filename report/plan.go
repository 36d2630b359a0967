package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
)

// VendorPlan is one console's part of an upgrade: the entries to add, to delete and to keep,
// each as the console holds it (kind, the vendor's type, the value).
type VendorPlan struct {
	Vendor string      `json:"vendor"`
	Add    []PlanEntry `json:"add"`
	Delete []PlanEntry `json:"delete"`
	Keep   []PlanEntry `json:"keep"`
}

// PlanEntry is one console entry of a plan.
type PlanEntry struct {
	Kind  exporters.EntryKind `json:"kind"`
	Type  string              `json:"type"`
	Value string              `json:"value"`
	// Files are the endpoint files the entry was written for (new side, else old side).
	Files []string `json:"files,omitempty"`
}

// PlanFromEntries compares the entries of a previous export (old) with those of the new one
// for each vendor, as a set difference on (vendor, type, value): an entry in new only is to
// add, in old only to delete, in both to keep. An entry written into two files of one vendor
// (a Defender indicator in the CSV and the API body) counts once.
//
// It is a small stand-in for a per-console plan that also knows each vendor's grouping and
// attributes (expiry, action, platforms): a caller that has such a plan can convert it to
// []VendorPlan instead.
func PlanFromEntries(vendors []string, old, new []exporters.Entry) []VendorPlan {
	out := make([]VendorPlan, 0, len(vendors))
	for _, v := range vendors {
		o, n := entrySet(v, old), entrySet(v, new)
		vp := VendorPlan{Vendor: v, Add: []PlanEntry{}, Delete: []PlanEntry{}, Keep: []PlanEntry{}}
		for k, e := range n {
			if _, ok := o[k]; ok {
				vp.Keep = append(vp.Keep, *e)
			} else {
				vp.Add = append(vp.Add, *e)
			}
		}
		for k, e := range o {
			if _, ok := n[k]; !ok {
				vp.Delete = append(vp.Delete, *e)
			}
		}
		for _, l := range [][]PlanEntry{vp.Add, vp.Delete, vp.Keep} {
			sortPlan(l)
		}
		out = append(out, vp)
	}
	return out
}

func entrySet(vendor string, es []exporters.Entry) map[string]*PlanEntry {
	out := map[string]*PlanEntry{}
	for _, e := range es {
		if e.Vendor != vendor {
			continue
		}
		k := e.Type + "\x00" + e.Value
		pe, ok := out[k]
		if !ok {
			pe = &PlanEntry{Kind: e.Kind, Type: e.Type, Value: e.Value}
			out[k] = pe
		}
		for _, f := range e.Files {
			if !contains(pe.Files, f) {
				pe.Files = append(pe.Files, f)
			}
		}
	}
	for _, pe := range out {
		sort.Strings(pe.Files)
	}
	return out
}

func sortPlan(l []PlanEntry) {
	sort.Slice(l, func(i, j int) bool {
		if l[i].Type != l[j].Type {
			return l[i].Type < l[j].Type
		}
		return l[i].Value < l[j].Value
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// PlanAgainst exports the previous policy for the same vendors with the same options and
// compares its entries with cur (the entries of the new export): the plan generate --report
// --previous shows. It returns the plan and a note saying how it was made, or an error when
// the previous policy cannot be exported (a refused path rule, ...).
func PlanAgainst(prev *edrpolicy.Policy, vendors []string, cur []exporters.Entry, o exporters.Options) ([]VendorPlan, string, error) {
	res, err := exporters.Collect(exporters.Default(), prev, vendors, o)
	if err != nil {
		return nil, "", fmt.Errorf("the previous policy could not be exported for the plan: %w", err)
	}
	note := fmt.Sprintf("entries compared by vendor, type and value: the previous policy (version %s) exported with the same options as this one", orDash(prev.AppVersion))
	return PlanFromEntries(vendors, res.Entries, cur), note, nil
}

// VendorsOf returns the vendors a coverage report names, sorted.
func VendorsOf(c *exporters.Coverage) []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, v := range c.Vendors {
		out = append(out, v.Vendor)
	}
	sort.Strings(out)
	return out
}

// planText is "N to add, N to delete, N to keep".
func planText(vp VendorPlan) string {
	return fmt.Sprintf("%d to add, %d to delete, %d to keep", len(vp.Add), len(vp.Delete), len(vp.Keep))
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
