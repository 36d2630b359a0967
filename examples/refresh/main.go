// Command refresh is a library example for a scheduled job: it regenerates the policy of an
// install, compares it with the policy currently deployed, writes the new policy (and vendor
// files) atomically with MANIFEST.sha256, and exits 1 when the exceptions must be re-imported.
//
//	go run ./examples/refresh -os windows -root examples/sample/v2/windows \
//	    -roots examples/sample/ca.pem -level signer -vendor defender \
//	    -current deployed/policy.json -out next/
//
// Exit codes follow edrpolicy diff: 0 nothing changed (nothing to re-import), 1 the policy
// changed (print, review, re-import next/), 2 an error. It never prompts. During a staged
// rollout (both versions running) add -keep-previous so the old version's rules stay.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/output"
	"github.com/edrpolicy/edrpolicy/signers"
)

type rootList []string

func (r *rootList) String() string     { return fmt.Sprint(*r) }
func (r *rootList) Set(s string) error { *r = append(*r, s); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errReported is a flag error the flag package has already printed.
var errReported = errors.New("reported")

// run is the command: its exit code is 0 (unchanged), 1 (changed) or 2 (an error).
func run(args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	opts, err := f.generateOptions()
	if err != nil {
		return fail(stderr, err)
	}
	pol, err := edrpolicy.Generate(context.Background(), opts)
	if err != nil {
		return fail(stderr, err)
	}
	if err := writeOutputs(pol, f.vendors, f.out, stderr); err != nil {
		return fail(stderr, err)
	}
	rolloutWarnings(pol, stderr)
	return report(opts.Decide.Previous, pol, f.out, stdout)
}

// fail prints err (unless the flag package has) and returns exit code 2.
func fail(stderr io.Writer, err error) int {
	if !errors.Is(err, errReported) {
		fmt.Fprintln(stderr, "refresh:", err)
	}
	return 2
}

// flagValues are the command's flags as given.
type flagValues struct {
	roots, vendors                           rootList
	osName, prof, level, trust, current, out string
	keep                                     bool
}

// parseFlags parses args and checks that the required flags are there.
func parseFlags(args []string, stderr io.Writer) (*flagValues, error) {
	var f flagValues
	flags := flag.NewFlagSet("refresh", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&f.osName, "os", "", "windows, mac or linux")
	flags.StringVar(&f.prof, "profile", "code42", "built-in profile name or profile file")
	flags.StringVar(&f.level, "level", "signer", "hash, signer or path")
	flags.StringVar(&f.trust, "roots", "", "PEM file of extra trusted roots")
	flags.StringVar(&f.current, "current", "", "policy.json deployed today (missing on the first run)")
	flags.StringVar(&f.out, "out", "", "directory for the new policy.json, vendor files and MANIFEST.sha256")
	flags.BoolVar(&f.keep, "keep-previous", false, "keep the current policy's superseded rules (staged rollout)")
	flags.Var(&f.roots, "root", "install folder to inspect (repeatable)")
	flags.Var(&f.vendors, "vendor", "vendor files to write (repeatable)")
	if err := flags.Parse(args); err != nil {
		return nil, errReported
	}
	if f.osName == "" || f.out == "" || len(f.roots) == 0 {
		return nil, errors.New("-os, -root and -out are required")
	}
	return &f, nil
}

// generateOptions reads what the flags name (profile, trusted roots, the deployed policy)
// into the options of Generate.
func (f *flagValues) generateOptions() (edrpolicy.GenerateOptions, error) {
	p, err := profile.Resolve(f.prof)
	if err != nil {
		return edrpolicy.GenerateOptions{}, fmt.Errorf("-profile: %w", err)
	}
	osv, err := profile.ParseOS(f.osName)
	if err != nil {
		return edrpolicy.GenerateOptions{}, fmt.Errorf("-os: %w", err)
	}
	crit, err := edrpolicy.ParseCriterion(f.level)
	if err != nil {
		return edrpolicy.GenerateOptions{}, fmt.Errorf("-level: %w", err)
	}
	var vopts signers.Options
	if f.trust != "" {
		pem, err := os.ReadFile(f.trust)
		if err != nil {
			return edrpolicy.GenerateOptions{}, fmt.Errorf("-roots: %w", err)
		}
		if vopts.Roots, _, err = signers.ParseRoots(pem); err != nil {
			return edrpolicy.GenerateOptions{}, fmt.Errorf("-roots %s: %w", f.trust, err)
		}
	}
	// The deployed policy; on the first run there is none and everything is new.
	var prev *edrpolicy.Policy
	if f.current != "" {
		prev, err = edrpolicy.ReadPolicy(f.current)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return edrpolicy.GenerateOptions{}, fmt.Errorf("-current: %w", err)
		}
	}
	return edrpolicy.GenerateOptions{
		Roots:      f.roots,
		AppVersion: edrpolicy.VersionAuto,
		Inspect:    edrpolicy.InspectOptions{Verify: vopts},
		Decide:     edrpolicy.DecideOptions{Profile: p, OS: osv, Level: crit, Previous: prev, KeepPrevious: f.keep && prev != nil},
	}, nil
}

// writeOutputs writes policy.json and the vendor files to out, with MANIFEST.sha256, and
// prints the exporters' warnings.
func writeOutputs(pol *edrpolicy.Policy, vendors []string, out string, stderr io.Writer) error {
	data, err := pol.JSON()
	if err != nil {
		return err
	}
	files := []output.File{{Name: output.PolicyFileName, Data: data}}
	if len(vendors) > 0 {
		vfiles, warns, err := exporters.Export(exporters.Default(), pol, vendors, exporters.Options{})
		if err != nil {
			return err
		}
		files = append(files, vfiles...)
		for _, w := range warns {
			fmt.Fprintf(stderr, "refresh: warning: %s: %s\n", w.Code, w.Message)
		}
	}
	return output.WriteSet(out, files)
}

// rolloutWarnings prints the policy's warnings about the change since the deployed policy.
func rolloutWarnings(pol *edrpolicy.Policy, stderr io.Writer) {
	for _, w := range pol.Warnings {
		if w.Code == edrpolicy.WarnSignerChange || w.Code == edrpolicy.WarnSuperseded || w.Code == edrpolicy.WarnKeptPrevious {
			fmt.Fprintf(stderr, "refresh: warning: %s: %s\n", w.Code, w.Message)
		}
	}
}

// report prints what changed between the deployed policy prev and pol, and returns the exit
// code: 0 unchanged, 1 changed.
func report(prev, pol *edrpolicy.Policy, out string, stdout io.Writer) int {
	d := edrpolicy.Diff(prev, pol)
	if d.Equal() {
		fmt.Fprintf(stdout, "%s: unchanged (version %s): nothing to re-import\n", filepath.Join(out, output.PolicyFileName), pol.AppVersion)
		return 0
	}
	for _, f := range d.Fields {
		fmt.Fprintf(stdout, "%s: %s → %s\n", f.Field, f.Old, f.New)
	}
	for _, c := range d.Changes {
		file := "-"
		if len(c.Files) > 0 {
			file = c.Files[0]
		}
		fmt.Fprintf(stdout, "%-7s %-6s %s: %s\n", c.Change, c.Criterion, file, c.Reason)
	}
	fmt.Fprintf(stdout, "%d changed, %d added, %d removed: re-import the exceptions from %s\n",
		d.Count(edrpolicy.ChangeChanged), d.Count(edrpolicy.ChangeAdded), d.Count(edrpolicy.ChangeRemoved), out)
	return 1
}
