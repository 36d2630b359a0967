package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/plan"
)

// VendorPlan is one console's part of an upgrade, as the report shows it: the entries to add,
// to delete, to update (same value, other attributes) and to keep, each as the console holds
// it.
type VendorPlan struct {
	Vendor string       `json:"vendor"`
	Add    []PlanEntry  `json:"add"`
	Delete []PlanEntry  `json:"delete"`
	Update []PlanUpdate `json:"update"`
	Keep   []PlanEntry  `json:"keep"`
}

// PlanEntry is one console entry of a plan: kind, the vendor's type, the value, the
// platforms and match it has, and the vendor files that hold it.
type PlanEntry struct {
	Kind      exporters.EntryKind `json:"kind"`
	Type      string              `json:"type"`
	Value     string              `json:"value"`
	Platforms []string            `json:"platforms,omitempty"`
	Match     edrpolicy.Match     `json:"match,omitempty"`
	Files     []string            `json:"files,omitempty"`
}

// PlanUpdate is an entry whose value stays and whose attributes change, with what changes.
type PlanUpdate struct {
	PlanEntry
	Changes string `json:"changes"`
}

// FromPlan converts a per-console upgrade plan (exporters/plan: the entries of both exports
// grouped as each console holds them, `diff --vendor` and `generate --previous --vendor`)
// into the report's form.
func FromPlan(p *plan.Plan) []VendorPlan {
	if p == nil {
		return nil
	}
	out := make([]VendorPlan, 0, len(p.Vendors))
	for _, vp := range p.Vendors {
		v := VendorPlan{Vendor: vp.Vendor, Add: entries(vp.Add), Delete: entries(vp.Delete), Update: []PlanUpdate{}, Keep: entries(vp.Unchanged)}
		for _, u := range vp.Update {
			v.Update = append(v.Update, PlanUpdate{PlanEntry: entryOf(u.New), Changes: u.Text()})
		}
		out = append(out, v)
	}
	return out
}

func entryOf(it plan.Item) PlanEntry {
	return PlanEntry{Kind: it.Kind, Type: it.Type, Value: it.Value, Platforms: it.Platforms, Match: it.Match, Files: it.Files}
}

func entries(items []plan.Item) []PlanEntry {
	out := make([]PlanEntry, 0, len(items))
	for _, it := range items {
		out = append(out, entryOf(it))
	}
	return out
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

// planText is "N to add, N to delete, N to update, N to keep".
func planText(vp VendorPlan) string {
	return fmt.Sprintf("%d to add, %d to delete, %d to update, %d to keep", len(vp.Add), len(vp.Delete), len(vp.Update), len(vp.Keep))
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
