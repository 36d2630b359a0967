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
	"github.com/edrpolicy/edrpolicy/signers"
)

type rootList []string

func (r *rootList) String() string     { return fmt.Sprint(*r) }
func (r *rootList) Set(s string) error { *r = append(*r, s); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var roots, vendors rootList
	flags := flag.NewFlagSet("refresh", flag.ContinueOnError)
	flags.SetOutput(stderr)
	osName := flags.String("os", "", "windows, mac or linux")
	prof := flags.String("profile", "code42", "built-in profile name or profile file")
	level := flags.String("level", "signer", "hash, signer or path")
	trust := flags.String("roots", "", "PEM file of extra trusted roots")
	current := flags.String("current", "", "policy.json deployed today (missing on the first run)")
	out := flags.String("out", "", "directory for the new policy.json, vendor files and MANIFEST.sha256")
	keep := flags.Bool("keep-previous", false, "keep the current policy's superseded rules (staged rollout)")
	flags.Var(&roots, "root", "install folder to inspect (repeatable)")
	flags.Var(&vendors, "vendor", "vendor files to write (repeatable)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *osName == "" || *out == "" || len(roots) == 0 {
		fmt.Fprintln(stderr, "refresh: -os, -root and -out are required")
		return 2
	}
	p, err := profile.Resolve(*prof)
	if err != nil {
		fmt.Fprintln(stderr, "refresh: -profile:", err)
		return 2
	}
	osv, err := profile.ParseOS(*osName)
	if err != nil {
		fmt.Fprintln(stderr, "refresh: -os:", err)
		return 2
	}
	crit, err := edrpolicy.ParseCriterion(*level)
	if err != nil {
		fmt.Fprintln(stderr, "refresh: -level:", err)
		return 2
	}
	var vopts signers.Options
	if *trust != "" {
		pem, err := os.ReadFile(*trust)
		if err != nil {
			fmt.Fprintln(stderr, "refresh: -roots:", err)
			return 2
		}
		if vopts.Roots, _, err = signers.ParseRoots(pem); err != nil {
			fmt.Fprintf(stderr, "refresh: -roots %s: %v\n", *trust, err)
			return 2
		}
	}
	// The deployed policy; on the first run there is none and everything is new.
	var prev *edrpolicy.Policy
	if *current != "" {
		prev, err = edrpolicy.ReadPolicy(*current)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintln(stderr, "refresh: -current:", err)
			return 2
		}
	}
	pol, err := edrpolicy.Generate(context.Background(), edrpolicy.GenerateOptions{
		Roots:      roots,
		AppVersion: edrpolicy.VersionAuto,
		Inspect:    edrpolicy.InspectOptions{Verify: vopts},
		Decide:     edrpolicy.DecideOptions{Profile: p, OS: osv, Level: crit, Previous: prev, KeepPrevious: *keep && prev != nil},
	})
	if err != nil {
		fmt.Fprintln(stderr, "refresh:", err)
		return 2
	}
	data, err := pol.JSON()
	if err != nil {
		fmt.Fprintln(stderr, "refresh:", err)
		return 2
	}
	files := []edrpolicy.OutputFile{{Name: edrpolicy.PolicyFileName, Data: data}}
	if len(vendors) > 0 {
		vfiles, warns, err := exporters.Export(exporters.Default(), pol, vendors, exporters.Options{})
		if err != nil {
			fmt.Fprintln(stderr, "refresh:", err)
			return 2
		}
		files = append(files, vfiles...)
		for _, w := range warns {
			fmt.Fprintf(stderr, "refresh: warning: %s: %s\n", w.Code, w.Message)
		}
	}
	if err := edrpolicy.WriteOutputs(*out, files); err != nil {
		fmt.Fprintln(stderr, "refresh:", err)
		return 2
	}
	for _, w := range pol.Warnings {
		if w.Code == edrpolicy.WarnSignerChange || w.Code == edrpolicy.WarnSuperseded || w.Code == edrpolicy.WarnKeptPrevious {
			fmt.Fprintf(stderr, "refresh: warning: %s: %s\n", w.Code, w.Message)
		}
	}
	d := edrpolicy.Diff(prev, pol)
	if d.Equal() {
		fmt.Fprintf(stdout, "%s: unchanged (version %s): nothing to re-import\n", filepath.Join(*out, edrpolicy.PolicyFileName), pol.AppVersion)
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
		d.Count(edrpolicy.ChangeChanged), d.Count(edrpolicy.ChangeAdded), d.Count(edrpolicy.ChangeRemoved), *out)
	return 1
}
