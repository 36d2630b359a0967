package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/plan"
	"github.com/edrpolicy/edrpolicy/internal/atomicfile"
	"github.com/edrpolicy/edrpolicy/report"
)

type reportOptions struct {
	out      string
	previous string
}

func newReportCmd(a *app) *cobra.Command {
	o := &reportOptions{}
	c := &cobra.Command{
		Use:   "report OUT_DIR [--out FILE] [--previous OLD]",
		Short: "Change-approval report (Markdown or HTML) for an output set",
		Long: `report reads an output set (policy.json, coverage.json and MANIFEST.sha256 of a folder
that generate or export wrote), checks every file against the manifest, and writes a report
for the change approval: summary (application, version and where it came from, level,
counts), the coverage matrix (each executable × each vendor: hash, certificate, path or NOT
COVERED), every rule with its files, full hashes, signer, reason and source, the warnings,
and with --previous the console entries to add, delete and keep per vendor.

--out FILE picks the format by its extension: .md (Markdown) or .html (one self-contained
file: inline CSS with print styles and inline SVG; no script, no external reference).
Without --out the Markdown goes to stdout. The same output set gives the same bytes.

--previous OLD is the previous policy.json or its folder: both policies are exported in
memory for the vendors of coverage.json with default vendor options, and their entries are
compared by vendor, type and value.

Exit codes: 0 report written; 1 report written, but a file of the set does not match its
manifest or is missing (the report says which at the top); 2 usage error, no readable
policy.json.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 || args[0] == "" {
				return usageErr("report needs one output folder (got %d argument(s))", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return o.run(a, args[0]) },
	}
	c.Flags().StringVar(&o.out, "out", "", "report file: .md or .html (default: Markdown to stdout)")
	c.Flags().StringVar(&o.previous, "previous", "", "the previous policy.json (or its folder): the console entries to add, delete and keep")
	return c
}

func (o *reportOptions) run(a *app, dir string) error {
	format := report.Markdown
	if o.out != "" {
		f, err := report.FormatFor(o.out)
		if err != nil {
			return usageErr("--out: %w", err)
		}
		format = f
	}
	in, err := report.Load(dir)
	if err != nil {
		return usageErr("%w", err)
	}
	if o.previous != "" {
		in.Plan, in.PlanNote, err = planAgainst(a, o.previous, dir, report.VendorsOf(in.Coverage))
		if err != nil {
			var ee *exitErr
			if errors.As(err, &ee) {
				return err
			}
			return usageErr("--previous: %w", err)
		}
	}
	data, err := report.Render(in, format)
	if err != nil {
		return &exitErr{code: exitError, err: err}
	}
	if o.out == "" {
		if _, err := a.stdout.Write(data); err != nil {
			return &exitErr{code: exitError, err: fmt.Errorf("writing output: %w", err)}
		}
	} else {
		if err := writeReport(o.out, data); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s: report (%s) of %s, %d rules\n", esc(o.out), format, esc(dir), len(in.Policy.Rules))
	}
	for _, p := range in.Problems {
		fmt.Fprintf(a.stderr, "edrpolicy: %s\n", esc(p))
	}
	if len(in.Problems) > 0 {
		return attention()
	}
	return nil
}

// planAgainst is the per-console plan from a previous export to the output folder dir: the
// previous side is an output folder (its vendor files read back) or a policy.json exported in
// memory with default options (SentinelOne tenant-wide: no entry depends on the scope); the
// new side is dir's files read back. Vendors are those of dir's coverage.json.
func planAgainst(a *app, previous, dir string, vendors []string) ([]report.VendorPlan, string, error) {
	if len(vendors) == 0 {
		return nil, "", fmt.Errorf("the output set has no coverage.json: no vendor was exported, so there is no console to plan for")
	}
	reg := exporters.Default()
	old, err := planSide(a, reg, "--previous", previous, vendors, exporters.Options{})
	if err != nil {
		return nil, "", err
	}
	cur, err := planSide(a, reg, "OUT_DIR", dir, vendors, exporters.Options{})
	if err != nil {
		return nil, "", err
	}
	p := plan.Compute(previous, dir, old, cur, vendors)
	how := "its vendor files read back"
	if fi, err := os.Stat(previous); err != nil || !fi.IsDir() {
		how = "exported in memory with default vendor options (entries only options add, such as Defender FileSha1 or Falcon md5 indicators, are not compared)"
	}
	return report.FromPlan(p), fmt.Sprintf("the console entries of %s (%s) compared with those of %s, grouped as each console holds them (as diff --vendor shows them)", previous, how, dir), nil
}

// writeReport writes a report file atomically (a temporary file in the same folder, fsynced,
// renamed over the name).
func writeReport(name string, data []byte) error {
	if err := atomicfile.WriteFile(name, data, 0o644); err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("--report %s: %w", name, err)}
	}
	return nil
}
