package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
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
			return usageErr("--out: %v", err)
		}
		format = f
	}
	in, err := report.Load(dir)
	if err != nil {
		return usageErr("%v", err)
	}
	if o.previous != "" {
		prev, err := readPrevious(o.previous)
		if err != nil {
			return usageErr("--previous: %v", err)
		}
		in.Plan, in.PlanNote, err = planFromPolicies(prev, in.Policy, report.VendorsOf(in.Coverage))
		if err != nil {
			return usageErr("--previous: %v", err)
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

// readPrevious reads a previous policy given as a file or as the folder that holds it.
func readPrevious(name string) (*edrpolicy.Policy, error) {
	if fi, err := os.Stat(name); err == nil && fi.IsDir() {
		name = filepath.Join(name, edrpolicy.PolicyFileName)
	}
	return edrpolicy.ReadPolicy(name)
}

// planFromPolicies exports both policies in memory for the vendors with default options
// (SentinelOne needs a scope: the tenant, which no entry's type or value depends on) and
// compares their entries.
func planFromPolicies(prev, cur *edrpolicy.Policy, vendors []string) ([]report.VendorPlan, string, error) {
	if len(vendors) == 0 {
		return nil, "", fmt.Errorf("the output set has no coverage.json: no vendor was exported, so there is no console to plan for")
	}
	o := exporters.Options{SentinelOne: exporters.SentinelOneOptions{Tenant: true}}
	now, err := exporters.Collect(exporters.Default(), cur, vendors, o)
	if err != nil {
		return nil, "", fmt.Errorf("this policy could not be exported for the plan: %w", err)
	}
	plan, _, err := report.PlanAgainst(prev, vendors, now.Entries, o)
	if err != nil {
		return nil, "", err
	}
	note := fmt.Sprintf("entries compared by vendor, type and value: both policies (versions %s and %s) exported in memory with default vendor options (entries that only options add, such as Defender FileSha1 or Falcon md5 indicators, are not compared)", orUnknown(prev.AppVersion), orUnknown(cur.AppVersion))
	return plan, note, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// writeReport writes a report file atomically (a temporary file in the same folder, fsynced,
// renamed over the name).
func writeReport(name string, data []byte) error {
	if err := atomicfile.WriteFile(name, data, 0o644); err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("--report %s: %w", name, err)}
	}
	return nil
}
