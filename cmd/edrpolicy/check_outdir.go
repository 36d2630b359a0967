package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/verify"
)

// checkDirDoc is the JSON form of `check --format json OUT_DIR`.
type checkDirDoc struct {
	*verify.Report
}

// runOutDir checks an output folder: `check OUT_DIR`.
func (o *checkOptions) runOutDir(c *cobra.Command, a *app, dir string) error {
	vopts, err := verifyOptions(o.trustRoots)
	if err != nil {
		return err
	}
	opts := verify.Options{Inspect: edrpolicy.InspectOptions{Jobs: o.jobs, Verify: vopts}, Vendors: vendorList(o.vendors)}
	if opts.Roots, opts.InstallPaths, err = o.rootMapping(); err != nil {
		return err
	}
	bar := newProgressBar(a)
	opts.Inspect.Progress = bar.update
	rep, err := verify.Check(c.Context(), dir, opts)
	bar.finish()
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("check: %w (see 'edrpolicy check --help')", err)}
	}
	switch o.format {
	case "json":
		err = writeJSON(a.stdout, checkDirDoc{rep})
	case "sarif":
		err = writeJSON(a.stdout, sarifOutDir(dir, rep))
	default:
		err = writeCheckDirTable(a.stdout, rep)
	}
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("writing output: %w", err)}
	}
	if rep.Failed() {
		return attention()
	}
	return nil
}

// sarifOutDir is the SARIF log of `check OUT_DIR`: findings about rules point at policy.json
// (at the rule's line), findings about a file of the folder (EDR2xx) at that file.
func sarifOutDir(dir string, rep *verify.Report) sarifDoc {
	pf := filepath.Join(dir, edrpolicy.PolicyFileName)
	doc := sarifLog(pf, ruleLines(pf), rep.CheckReport)
	for i, f := range rep.Findings {
		if !strings.HasPrefix(f.ID, "EDR2") || f.File == "" || strings.ContainsAny(f.File, `/\`) {
			continue
		}
		if fi, err := os.Lstat(filepath.Join(dir, f.File)); err == nil && !fi.IsDir() {
			loc := &doc.Runs[0].Results[i].Locations[0].PhysicalLocation
			loc.ArtifactLocation.URI, loc.Region = fileURI(filepath.Join(dir, f.File)), nil
		}
	}
	return doc
}

// writeCheckDirTable writes the findings, the policy simulation, one line per vendor and the
// summary.
func writeCheckDirTable(w io.Writer, rep *verify.Report) error {
	if err := writeFindings(w, rep.CheckReport); err != nil {
		return err
	}
	for _, v := range rep.Vendors {
		if _, err := fmt.Fprintln(w, v.Text); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, rep.Summary.Text)
	return err
}

// vendorList lower-cases and splits --vendor values (repeatable or comma-separated).
func vendorList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, x := range strings.Split(v, ",") {
			if x = strings.ToLower(strings.TrimSpace(x)); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}
