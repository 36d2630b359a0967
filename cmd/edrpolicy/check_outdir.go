package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/check"
	"github.com/edrpolicy/edrpolicy/exporters/verify"
	"github.com/edrpolicy/edrpolicy/output"
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
	opts := verify.Options{Check: check.Options{Inspect: edrpolicy.InspectOptions{Jobs: o.jobs, Verify: vopts}, Guardrails: edrpolicy.HostGuardrails()}, Vendors: vendorList(o.vendors)}
	if opts.Check.Roots, opts.Check.InstallPaths, err = o.rootMapping(); err != nil {
		return err
	}
	bar := newProgressBar(a)
	opts.Check.Inspect.Progress = bar.update
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
	pf := filepath.Join(dir, output.PolicyFileName)
	var lines []int
	if _, raw, err := edrpolicy.ReadPolicyFile(pf); err == nil {
		lines = ruleLines(raw)
	}
	doc := sarifLog(pf, lines, rep.Report)
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

// writeCheckDirTable writes one line per vendor, then the table of check policy.json: the
// findings, the policy simulation and the summary.
func writeCheckDirTable(w io.Writer, rep *verify.Report) error {
	for _, v := range rep.Vendors {
		if _, err := fmt.Fprintln(w, v.Text); err != nil {
			return err
		}
	}
	return writeCheckTable(w, rep.Report)
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

// rootMapping returns the cleaned --root values and the --install-path of each.
func (o *checkOptions) rootMapping() ([]string, map[string][]string, error) {
	var roots []string
	var paths map[string][]string
	for i, r := range o.roots {
		r = filepath.Clean(r)
		roots = append(roots, r)
		if len(o.installPaths) > 0 {
			if o.installPaths[i] == "" {
				return nil, nil, usageErr("--install-path %d is empty", i+1)
			}
			if paths == nil {
				paths = map[string][]string{}
			}
			paths[r] = append(paths[r], o.installPaths[i])
		}
	}
	return roots, paths, nil
}
