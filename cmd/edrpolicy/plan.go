package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/plan"
	"github.com/edrpolicy/edrpolicy/internal/atomicfile"
	"github.com/edrpolicy/edrpolicy/output"
)

// planFlags are the flags of `diff --vendor`: the vendors, the removal folder, and the export
// options that change which entries a policy gives (the same as generate's and export's).
type planFlags struct {
	vendors      []string
	out          string
	expiration   string
	inspection   string
	csAction     string
	md5          bool
	excludedFrom []string
	s1SHA256     bool
	defenderSHA1 bool
	processes    bool
}

func (p *planFlags) bind(f *pflag.FlagSet) {
	f.StringSliceVar(&p.vendors, "vendor", nil, "per-console plan for these vendors: crowdstrike, sentinelone, defender (repeatable or comma-separated)")
	f.StringVar(&p.out, "out", "", "with --vendor: write each vendor's removal file into this folder")
	f.StringVar(&p.expiration, "expiration", "", "for a policy side: expiry as given to generate/export (rule, YYYY-MM-DD or RFC 3339)")
	f.StringVar(&p.inspection, "inspection", "", "for a policy side: inspect JSON of the same install, as given to export")
	f.StringVar(&p.csAction, "cs-action", "allow", "for a policy side: CrowdStrike IOC action, as given to generate/export")
	f.BoolVar(&p.md5, "md5", false, "for a policy side: CrowdStrike md5 IOCs, as given to generate/export")
	f.StringSliceVar(&p.excludedFrom, "ml-excluded-from", nil, "for a policy side: CrowdStrike ML excluded_from, as given to generate/export")
	f.BoolVar(&p.s1SHA256, "s1-sha256", false, "for a policy side: SentinelOne SHA-256 white_hash, as given to generate/export")
	f.BoolVar(&p.defenderSHA1, "defender-sha1", false, "for a policy side: Defender FileSha1 indicators, as given to generate/export")
	f.BoolVar(&p.processes, "defender-process-exclusions", false, "for a policy side: Defender process exclusions, as given to generate/export")
}

// config is the export configuration for a policy side.
func (p *planFlags) config() (vendorConfig, error) {
	v := vendorFlags{expiration: p.expiration, inspection: p.inspection, csAction: p.csAction, md5: p.md5, excludedFrom: p.excludedFrom,
		s1SHA256: p.s1SHA256, s1Mode: "suppress", defenderSHA1: p.defenderSHA1, defenderProcesses: p.processes, mergePolicy: "merge"}
	return v.config()
}

// runPlan is `diff OLD NEW --vendor V`.
func (o *diffOptions) runPlan(a *app, oldArg, newArg string) error {
	vendors := vendorList(o.plan.vendors)
	reg := exporters.Default()
	for _, v := range vendors {
		if _, ok := reg.Reader(v); !ok {
			return usageErr("--vendor %q: want %s", v, strings.Join(reg.Names(), ", "))
		}
	}
	vc, err := o.plan.config()
	if err != nil {
		return err
	}
	old, err := planSide(a, vc.reg, "OLD", oldArg, vendors, vc.opts)
	if err != nil {
		return err
	}
	cur, err := planSide(a, vc.reg, "NEW", newArg, vendors, vc.opts)
	if err != nil {
		return err
	}
	p := plan.Compute(oldArg, newArg, old, cur, vendors)
	if o.plan.out != "" {
		if err := writeRemovals(a, reg, p, o.plan.out); err != nil {
			return err
		}
	}
	if o.format == "json" {
		err = writeJSON(a.stdout, p)
	} else {
		err = writePlanTable(a.stdout, p)
	}
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("writing output: %w", err)}
	}
	if p.Changes {
		return attention()
	}
	return nil
}

// planSide reads one side of a plan: an output folder, or a policy exported in memory.
func planSide(a *app, reg *exporters.Registry, which, arg string, vendors []string, o exporters.Options) ([]exporters.Entry, error) {
	if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
		es, warns, err := plan.FromDir(reg, arg)
		for _, w := range warns {
			fmt.Fprintf(a.stderr, "edrpolicy: warning: %s %s: %s: %s\n", which, arg, w.File, w.Message)
		}
		if err != nil {
			return nil, usageErr("diff: %s %w", which, err)
		}
		return es, nil
	}
	pol, err := edrpolicy.ReadPolicy(arg)
	if err != nil {
		return nil, usageErr("diff: %s %w", which, err)
	}
	es, err := plan.FromPolicy(reg, pol, vendors, o)
	if err != nil {
		return nil, usageErr("diff: %s %s: export: %w", which, arg, err)
	}
	return es, nil
}

// writeRemovals writes each vendor's removal files into dir, one file at a time (no manifest:
// dir may be an output folder, whose manifest stays as it is).
func writeRemovals(a *app, reg *exporters.Registry, p *plan.Plan, dir string) error {
	files, err := p.RemovalFiles(reg)
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("diff: %w", err)}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("--out %s: %w", dir, err)}
	}
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		if err := atomicfile.WriteFile(p, f.Data, 0o644); err != nil {
			return &exitErr{code: exitError, err: fmt.Errorf("diff: %w", err)}
		}
		fmt.Fprintf(a.stderr, "edrpolicy: wrote %s\n", p)
	}
	return nil
}

// writePlanTable writes one table per vendor: CHANGE TYPE VALUE PLATFORMS MATCH FILES.
func writePlanTable(w io.Writer, p *plan.Plan) error {
	for _, vp := range p.Vendors {
		fmt.Fprintln(w, vp.Text)
		if len(vp.Add)+len(vp.Delete)+len(vp.Update)+len(vp.Unchanged) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  CHANGE\tTYPE\tVALUE\tPLATFORMS\tMATCH\tFILES")
		row := func(change string, it plan.Item, extra string) {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s%s\n", change, cell(it.Type), cell(it.Value), orDash(strings.Join(it.Platforms, ",")), orDash(string(it.Match)), orDash(strings.Join(it.Files, ", ")), cell(extra))
		}
		for _, it := range vp.Add {
			row("add", it, "")
		}
		for _, it := range vp.Delete {
			row("delete", it, "")
		}
		for _, u := range vp.Update {
			row("update", u.New, " ("+u.Text()+")")
		}
		for _, it := range vp.Unchanged {
			row("keep", it, "")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	line := "no console changes"
	if p.Changes {
		var add, del, upd int
		for _, vp := range p.Vendors {
			add, del, upd = add+len(vp.Add), del+len(vp.Delete), upd+len(vp.Update)
		}
		line = fmt.Sprintf("%d to add, %d to delete, %d to update", add, del, upd)
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// upgradePlan is generate --previous with --vendor: the previous policy exported with the
// same options compared with the files this run writes, and the removal files for what goes.
func upgradePlan(reg *exporters.Registry, prev *edrpolicy.Policy, prevName string, files []output.File, vendors []string, o exporters.Options) (*plan.Plan, []output.File, error) {
	old, err := plan.FromPolicy(reg, prev, vendors, o)
	if err != nil {
		return nil, nil, fmt.Errorf("--previous %s: %w", prevName, err)
	}
	cur, err := exporters.ParseFiles(reg, files)
	if err != nil {
		return nil, nil, err
	}
	p := plan.Compute(prevName, output.PolicyFileName, old, cur, vendorList(vendors))
	rfiles, err := p.RemovalFiles(reg)
	return p, rfiles, err
}

// cell keeps a table cell on one line and free of terminal control sequences: control
// characters (and tabs, which would shift the columns) become \uXXXX. The readers refuse
// such values already; this is for what a plan prints whatever it read.
func cell(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029 {
			fmt.Fprintf(&b, "\\u%04x", c)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
