package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

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
	host           string
}

func newInspectCmd(a *app) *cobra.Command {
	o := &inspectOptions{}
	c := &cobra.Command{
		Use:   "inspect [flags] PATH...",
		Short: "Show evidence (digests, signatures) for files; directories are walked",
		Long: `inspect reads each file once and reports its SHA-256 (and SHA-1/MD5 when asked), its format
(pe, macho, macho-universal, other) and its code signatures. Directories are walked
recursively; symbolic links are reported, not followed, unless --follow-symlinks is given.
The table fits the terminal (paths shortened in the middle, digests cut; --format json keeps
everything); a NOTE column flags a certificate that claims Microsoft, Apple or another signer
of the risky list while it is self-signed (IMITATION) or its chain is not verified.

Exit codes: 0 all files inspected; 1 some files could not be read or parsed (each has an
"error" in the output and a line on stderr); 2 usage or fatal error, or nothing to inspect
(the paths hold no files).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return o.run(c, a, args) },
	}
	f := c.Flags()
	f.StringVar(&o.format, "format", "table", "output format: table or json")
	f.StringVar(&o.digests, "digests", "sha256", "digests to compute: sha256 (always), sha1, md5, comma-separated")
	f.IntVar(&o.jobs, "jobs", 0, "files inspected in parallel (default: number of CPUs)")
	f.StringVar(&o.roots, "roots", "", "PEM file of extra trusted root certificates")
	f.BoolVar(&o.followSymlinks, "follow-symlinks", false, "follow symbolic links (loops are detected and reported)")
	f.StringVar(&o.host, "host", "", "host name recorded in the JSON output, for generate --evidence (default: this machine's hostname)")
	return c
}

func (o *inspectOptions) run(c *cobra.Command, a *app, args []string) error {
	if o.format != "table" && o.format != "json" {
		return usageErr("--format: %q is not a format; use table or json", o.format)
	}
	algs, err := hashing.ParseAlgorithms(o.digests)
	if err != nil {
		return usageErr("--digests: %w", err)
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
	if len(inv.Files) == 0 {
		return usageErr("inspect: nothing to inspect: %s holds no files", strings.Join(args, ", "))
	}
	if o.format == "json" {
		inv.Host = inspectHost(o.host)
		err = inv.WriteJSON(a.stdout) // full paths
	} else {
		err = writeInventoryTable(a.stdout, inv, termWidth(a))
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

// inspectHost is the host name inspect records: --host, else the hostname (none when the
// system does not say).
func inspectHost(flag string) string {
	if flag != "" {
		return flag
	}
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
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
		return o, usageErr("--roots: %w", err)
	}
	pool, _, err := signers.ParseRoots(data)
	if err != nil {
		return o, usageErr("--roots %s: %w", rootsFile, err)
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

// termWidth is the width the tables fit: the terminal's when stdout is one, else $COLUMNS,
// else 0 (no limit: a pipe or a file gets whole lines).
func termWidth(a *app) int {
	if f, ok := a.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 0
}

// shortenMiddle cuts s to n characters by replacing its middle with "…", keeping the start
// (the root) and the end (the file name).
func shortenMiddle(s string, n int) string {
	r := []rune(s)
	if n <= 0 || len(r) <= n {
		return s
	}
	if n < 5 {
		return string(r[:n])
	}
	head := (n - 1) / 3
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// fitFirstColumn shortens the first cell of each row so that the table fits width (0: no
// limit); the first column keeps at least 24 characters.
func fitFirstColumn(rows [][]string, width int) {
	if width <= 0 || len(rows) == 0 {
		return
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			if n := utf8.RuneCountInString(esc(c)); n > widths[i] {
				widths[i] = n
			}
		}
	}
	others := 0
	for _, w := range widths[1:] {
		others += w + 2
	}
	budget := width - others - 1
	if budget < 24 {
		budget = 24
	}
	for _, r := range rows {
		r[0] = shortenMiddle(r[0], budget)
	}
}

func writeInventoryTable(w io.Writer, inv *edrpolicy.Inventory, width int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	notes := imitationNotes(inv)
	head := []string{"PATH", "FORMAT", "SIZE", "SIGNATURE", "CHAIN", "SIGNER", "SHA256"}
	if len(notes) > 0 {
		head = append(head, "NOTE") // only when a row has one: tables without stay as they were
	}
	rows := [][]string{head}
	var footnotes []string
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
		note := notes[i]
		if width > 0 {
			// Fit the terminal: the full digest is in --format json, the full note below.
			if len(digest) == 64 {
				digest = digest[:16] + "…"
			}
			signer = shortenMiddle(signer, 32)
			if note != "" {
				key := strings.SplitN(note, ":", 2)[0]
				if !contains(footnotes, note) {
					footnotes = append(footnotes, note)
				}
				note = key
			}
		}
		cells := []string{displayPath(f), format, fmt.Sprint(f.Size), status, chain, signer, digest}
		if len(notes) > 0 {
			cells = append(cells, orDash(note))
		}
		rows = append(rows, cells)
	}
	fitFirstColumn(rows, width)
	for _, r := range rows {
		row(tw, r...)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range footnotes {
		if _, err := fmt.Fprintf(w, "NOTE %s\n", esc(n)); err != nil {
			return err
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
