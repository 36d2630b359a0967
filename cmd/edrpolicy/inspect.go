package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/safeopen"
	"github.com/edrpolicy/edrpolicy/signers"
)

type inspectOptions struct {
	format         string
	digests        string
	jobs           int
	roots          string
	followSymlinks bool
}

func newInspectCmd(a *app) *cobra.Command {
	o := &inspectOptions{}
	c := &cobra.Command{
		Use:   "inspect [flags] PATH...",
		Short: "Show evidence (digests, signatures) for files; directories are walked",
		Long: `inspect reads each file once and reports its SHA-256 (and SHA-1/MD5 when asked), its format
(pe, macho, macho-universal, other) and its code signatures. Directories are walked
recursively; symbolic links are reported, not followed, unless --follow-symlinks is given.

Exit codes: 0 all files inspected; 1 some files could not be read or parsed (each has an
"error" in the output and a line on stderr); 2 usage or fatal error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return o.run(c, a, args) },
	}
	f := c.Flags()
	f.StringVar(&o.format, "format", "table", "output format: table or json")
	f.StringVar(&o.digests, "digests", "sha256", "digests to compute: sha256 (always), sha1, md5, comma-separated")
	f.IntVar(&o.jobs, "jobs", 0, "files inspected in parallel (default: number of CPUs)")
	f.StringVar(&o.roots, "roots", "", "PEM file of extra trusted root certificates")
	f.BoolVar(&o.followSymlinks, "follow-symlinks", false, "follow symbolic links (loops are detected and reported)")
	return c
}

func (o *inspectOptions) run(c *cobra.Command, a *app, args []string) error {
	if o.format != "table" && o.format != "json" {
		return usageErr("--format: %q is not a format; use table or json", o.format)
	}
	algs, err := hashing.ParseAlgorithms(o.digests)
	if err != nil {
		return usageErr("--digests: %v", err)
	}
	vopts, err := verifyOptions(o.roots)
	if err != nil {
		return err
	}
	bar := newProgressBar(a)
	inv, err := edrpolicy.Inspect(c.Context(), args, edrpolicy.InspectOptions{
		Digests:        algs,
		Jobs:           o.jobs,
		FollowSymlinks: o.followSymlinks,
		Verify:         vopts,
		Progress:       bar.update,
	})
	bar.finish()
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("inspect: %w", err)}
	}
	if o.format == "json" {
		err = inv.WriteJSON(a.stdout)
	} else {
		err = writeInventoryTable(a.stdout, inv)
	}
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("writing output: %w", err)}
	}
	if n := inv.Failed(); n > 0 {
		for _, f := range inv.Files {
			if f.Error != "" {
				fmt.Fprintf(a.stderr, "edrpolicy: %s: %s\n", esc(displayPath(f)), esc(f.Error))
			}
		}
		fmt.Fprintf(a.stderr, "edrpolicy: %d of %d files could not be read or parsed\n", n, len(inv.Files))
		return attention()
	}
	return nil
}

func usageErr(format string, args ...any) error {
	return &exitErr{code: exitError, err: fmt.Errorf(format, args...)}
}

// verifyOptions loads --roots.
func verifyOptions(rootsFile string) (signers.Options, error) {
	var o signers.Options
	if rootsFile == "" {
		return o, nil
	}
	data, err := safeopen.ReadFile("", rootsFile, safeopen.MaxPEM)
	if err != nil {
		return o, usageErr("--roots: %v", err)
	}
	pool, _, err := signers.ParseRoots(data)
	if err != nil {
		return o, usageErr("--roots %s: %v", rootsFile, err)
	}
	o.Roots = pool
	return o, nil
}

func displayPath(f edrpolicy.FileEvidence) string {
	if f.Root != "" && f.Root != f.Path {
		return strings.TrimSuffix(f.Root, "/") + "/" + f.Path
	}
	return f.Path
}

// imitationNotes returns, per file index, the note for a signature whose certificate claims
// a signer of the risky list (Microsoft, Apple, ...) while nothing verifies it: self-signed,
// or a chain that does not reach a trusted root (edrpolicy.RiskySigners.Imitation).
func imitationNotes(inv *edrpolicy.Inventory) map[int]string {
	risky := edrpolicy.DefaultRiskySigners()
	out := map[int]string{}
	for i := range inv.Files {
		for j := range inv.Files[i].Signatures {
			if n := risky.Imitation(&inv.Files[i].Signatures[j]); n != "" {
				out[i] = n
				break
			}
		}
	}
	return out
}

func writeInventoryTable(w io.Writer, inv *edrpolicy.Inventory) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	notes := imitationNotes(inv)
	head := []string{"PATH", "FORMAT", "SIZE", "SIGNATURE", "CHAIN", "SIGNER", "SHA256"}
	if len(notes) > 0 {
		head = append(head, "NOTE") // only when a row has one: tables without stay as they were
	}
	row(tw, head...)
	for i, f := range inv.Files {
		status, chain, signer, digest := string(f.SignatureStatus), "", "", f.SHA256
		if status == "" {
			status = "-"
		}
		for _, s := range f.Signatures {
			if chain == "" {
				chain = string(s.Chain)
			}
			if s.Signer != nil && s.Signer.CommonName != "" {
				signer, chain = s.Signer.CommonName, string(s.Chain)
				break
			}
			if s.TeamID != "" {
				signer = "team " + s.TeamID
			}
		}
		if signer == "" {
			signer = "-"
		}
		if chain == "" {
			chain = "-"
		}
		format := string(f.Format)
		if f.Symlink != "" && f.Format == "" {
			format = "symlink"
			digest = "-> " + f.Symlink
		}
		if format == "" {
			format = "-"
		}
		if f.Error != "" {
			digest = "error: " + f.Error
		}
		cells := []string{displayPath(f), format, fmt.Sprint(f.Size), status, chain, signer, digest}
		if len(notes) > 0 {
			cells = append(cells, orDash(notes[i]))
		}
		row(tw, cells...)
	}
	return tw.Flush()
}
