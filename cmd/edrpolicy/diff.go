package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
)

type diffOptions struct {
	format string
	plan   planFlags
}

// diffDoc is the JSON form of `diff --format json`.
type diffDoc struct {
	SchemaVersion int                     `json:"schema_version"`
	Old           string                  `json:"old"`
	New           string                  `json:"new"`
	Equal         bool                    `json:"equal"`
	Summary       diffSummary             `json:"summary"`
	Fields        []edrpolicy.FieldChange `json:"fields"`
	Changes       []edrpolicy.RuleChange  `json:"changes"`
}

type diffSummary struct {
	Added   int `json:"added"`
	Removed int `json:"removed"`
	Changed int `json:"changed"`
	Renewed int `json:"renewed"`
}

func newDiffCmd(a *app) *cobra.Command {
	o := &diffOptions{}
	c := &cobra.Command{
		Use:   "diff OLD NEW [--vendor V]...",
		Short: "Rule-level difference of two policies, or per-console upgrade plan",
		Long: `diff compares two policy.json files rule by rule and prints one line per rule added,
removed or changed, with the file it covers and the reason: a file with a new hash (a new
build), a signer whose certificate was renewed (same subject or Team ID, new thumbprint: the
moment signer exceptions break), files added to or removed from a rule, a new expiry or
governance. Policy settings that differ (app_version, era, level, ...) are listed first.

With --vendor V (repeatable or comma-separated, case-insensitive) diff prints an upgrade plan
per console instead: the entries to add, to delete, to update and those unchanged, in the
vendor's own values (the SHA-1 for SentinelOne, the SHA-256 for Falcon and Defender,
certificate thumbprints, publisher names, paths in the vendor's syntax). OLD and NEW are then
output folders (their vendor files are read back) or policy files (exported in memory with the
export options given here, which must be the ones generate or export used). With --out DIR,
each vendor with entries to delete also gets a removal file there: crowdstrike-remove.json and
sentinelone-remove.json (per entry, the API request that finds its console id and the one that
deletes it), defender-remove-indicators.json and defender-remove-av-exclusions.ps1.

Exit codes: 0 the policies are equal (with --vendor: no console must change); 1 they differ
(exceptions must be re-imported); 2 a file cannot be read, is not JSON, or has another
schema_version.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("diff needs two policy files, OLD and NEW (got %d argument(s))", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return o.run(a, args[0], args[1]) },
	}
	c.Flags().StringVar(&o.format, "format", "table", "output format: table or json")
	o.plan.bind(c.Flags())
	return c
}

func (o *diffOptions) run(a *app, oldFile, newFile string) error {
	if o.format != "table" && o.format != "json" {
		return usageErr("--format: %q is not a format; use table or json", o.format)
	}
	if len(o.plan.vendors) > 0 {
		return o.runPlan(a, oldFile, newFile)
	}
	if o.plan.out != "" {
		return usageErr("--out: only with --vendor (removal files are per vendor)")
	}
	oldPol, err := edrpolicy.ReadPolicy(oldFile)
	if err != nil {
		return usageErr("diff: OLD %w", err)
	}
	newPol, err := edrpolicy.ReadPolicy(newFile)
	if err != nil {
		return usageErr("diff: NEW %w", err)
	}
	d := edrpolicy.Diff(oldPol, newPol)
	sum := diffSummary{Added: d.Count(edrpolicy.ChangeAdded), Removed: d.Count(edrpolicy.ChangeRemoved), Changed: d.Count(edrpolicy.ChangeChanged), Renewed: len(d.Renewals())}
	if o.format == "json" {
		doc := diffDoc{SchemaVersion: edrpolicy.SchemaVersion, Old: oldFile, New: newFile, Equal: d.Equal(), Summary: sum, Fields: d.Fields, Changes: d.Changes}
		if err := writeJSON(a.stdout, doc); err != nil {
			return &exitErr{code: exitError, err: fmt.Errorf("writing output: %w", err)}
		}
	} else if err := writeDiffTable(a, d, sum); err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("writing output: %w", err)}
	}
	if d.Equal() {
		return nil
	}
	return attention()
}

func writeDiffTable(a *app, d *edrpolicy.PolicyDiff, sum diffSummary) error {
	if d.Equal() {
		_, err := fmt.Fprintln(a.stdout, "no differences")
		return err
	}
	for _, f := range d.Fields {
		fmt.Fprintf(a.stdout, "%s: %s → %s\n", esc(f.Field), esc(orDash(f.Old)), esc(orDash(f.New)))
	}
	if len(d.Changes) > 0 {
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		row(tw, "CHANGE", "CRITERION", "ROLE", "FILE", "REASON")
		for _, c := range d.Changes {
			file := "-"
			if len(c.Files) > 0 {
				file = c.Files[0]
				if len(c.Files) > 1 {
					file += fmt.Sprintf(" (+%d more)", len(c.Files)-1)
				}
			}
			row(tw, string(c.Change), string(c.Criterion), string(c.Role), file, c.Reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	line := fmt.Sprintf("%d changed, %d added, %d removed", sum.Changed, sum.Added, sum.Removed)
	if sum.Renewed > 0 {
		line += fmt.Sprintf(" (%d signer certificate renewal(s))", sum.Renewed)
	}
	_, err := fmt.Fprintln(a.stdout, line)
	return err
}
