package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

type profilesOptions struct {
	format string
}

// profileSummary is one entry of `profiles --format json`.
type profileSummary struct {
	Name     string                   `json:"name"`
	Title    string                   `json:"title"`
	OS       []profile.OS             `json:"os"`
	Eras     []profile.Era            `json:"eras"`
	Products []string                 `json:"products"`
	Sources  []profile.Source         `json:"sources"`
	Unknowns int                      `json:"unknowns"`
	Signers  []profile.ExpectedSigner `json:"signers"`
	Facts    []profile.Fact           `json:"facts"`
	Advice   []profile.Advice         `json:"advice"`
	// Gaps are the unknowns themselves (Unknowns counts them).
	Gaps []profile.Unknown `json:"gaps"`
}

func newProfilesCmd(a *app) *cobra.Command {
	o := &profilesOptions{}
	c := &cobra.Command{
		Use:   "profiles",
		Short: "List the built-in profiles",
		Long: `profiles lists the built-in application profiles: the OSes, products and version eras they
cover, the signers each era expects, the other facts they cite, what their sources advise about
exceptions (quoted), what no source gives (unknowns), and the sources with their confidence.
Any other application is described by a profile file of the same schema, given to generate,
paths and ports with --profile FILE; "profiles init" starts one from an inspected install.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(a) },
	}
	c.Flags().StringVar(&o.format, "format", "table", "output format: table or json")
	c.AddCommand(newProfilesSchemaCmd(a), newProfilesInitCmd(a))
	return c
}

func newProfilesSchemaCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of profile files",
		Long: `schema prints the JSON Schema (draft 2020-12) of profile files. Save it next to a profile as
` + profile.SchemaFile + ` and reference it with "$schema": "` + profile.SchemaFile + `" (as "profiles
init" does) so that editors complete and check the profile. The loader checks more than the
schema: citations of declared sources, declared products and eras.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := a.stdout.Write(profile.Schema())
			return writeOut(err)
		},
	}
}

func summarize(p *profile.Profile) profileSummary {
	s := profileSummary{Name: p.Name, Title: p.Title, OS: p.OSes(), Eras: p.Eras, Sources: p.Sources, Unknowns: len(p.Unknowns),
		Products: []string{}, Signers: p.Signers, Facts: p.Facts, Advice: p.Advice, Gaps: p.Unknowns}
	for _, pr := range p.Products {
		s.Products = append(s.Products, pr.Name)
	}
	// Lists are [] rather than null in JSON.
	s.OS = nonNil(s.OS)
	s.Eras, s.Sources, s.Signers = nonNil(s.Eras), nonNil(s.Sources), nonNil(s.Signers)
	s.Facts, s.Advice, s.Gaps = nonNil(s.Facts), nonNil(s.Advice), nonNil(s.Gaps)
	return s
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (o *profilesOptions) run(a *app) error {
	if o.format != "table" && o.format != "json" {
		return usageErr("--format: %q is not a format; use table or json", o.format)
	}
	all, err := profile.BuiltIns()
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("profiles: %w", err)}
	}
	docs := make([]profileSummary, 0, len(all))
	for _, p := range all {
		docs = append(docs, summarize(p))
	}
	if o.format == "json" {
		return writeOut(writeJSON(a.stdout, docs))
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	row(tw, "NAME", "TITLE", "OS", "VERSIONS", "PRODUCTS", "SOURCES", "UNKNOWNS")
	for _, s := range docs {
		var eras []string
		for _, e := range s.Eras {
			eras = append(eras, fmt.Sprintf("%s (%s)", e.Name, e.Versions.Describe()))
		}
		row(tw, s.Name, s.Title, joinOS(s.OS), strings.Join(eras, "; "), strings.Join(s.Products, ","), fmt.Sprint(len(s.Sources)), fmt.Sprint(s.Unknowns))
	}
	if err := tw.Flush(); err != nil {
		return writeOut(err)
	}
	for i, s := range docs {
		if err := printProfileDetails(a.stdout, all[i], s); err != nil {
			return writeOut(err)
		}
	}
	return nil
}

// printProfileDetails prints a profile's eras, signers, facts, advice, unknowns and sources,
// each row with its confidence and sources.
func printProfileDetails(w io.Writer, p *profile.Profile, s profileSummary) error {
	section := func(title string, n int, rows func(tw *tabwriter.Writer)) error {
		if n == 0 {
			return nil
		}
		fmt.Fprintf(w, "\n%s %s:\n", esc(s.Name), title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		rows(tw)
		return tw.Flush()
	}
	products := func(list []string) string {
		if len(list) == 0 {
			return "all products"
		}
		return strings.Join(list, ",")
	}
	return errors.Join(
		section("eras", len(s.Eras), func(tw *tabwriter.Writer) {
			for _, e := range s.Eras {
				row(tw, "  "+e.Name, e.Versions.Describe(), products(e.Products), string(e.Confidence), p.SourceLabels(e.Source))
			}
		}),
		section("signers", len(s.Signers), func(tw *tabwriter.Writer) {
			for _, g := range s.Signers {
				row(tw, "  "+string(g.OS), signerWhen(g), signerID(g), string(g.Confidence), p.SourceLabels(g.Source))
			}
		}),
		section("facts", len(s.Facts), func(tw *tabwriter.Writer) {
			for _, f := range s.Facts {
				row(tw, "  "+orDash(string(f.OS)), f.Versions.Describe(), f.Kind, f.Value, string(f.Confidence), p.SourceLabels(f.Source))
			}
		}),
		section("advice (the sources' own words)", len(s.Advice), func(tw *tabwriter.Writer) {
			for _, ad := range s.Advice {
				row(tw, "  "+ad.Topic, products(ad.Products), strconv.Quote(ad.Quote), p.SourceLabels(ad.Source))
			}
		}),
		section("unknowns (no source gives them)", len(s.Gaps), func(tw *tabwriter.Writer) {
			for _, u := range s.Gaps {
				row(tw, "  "+u.What, orDash(string(u.OS)), u.Versions.Describe(), products(u.Products), u.Message, "("+u.Flag+")")
			}
		}),
		section("sources", len(s.Sources), func(tw *tabwriter.Writer) {
			for _, src := range s.Sources {
				row(tw, "  "+src.ID, string(src.Confidence), src.Ref)
			}
		}),
	)
}

func signerWhen(g profile.ExpectedSigner) string {
	parts := []string{}
	if g.Era != "" {
		parts = append(parts, "era "+g.Era)
	}
	if !g.Versions.All() || g.Era == "" {
		parts = append(parts, g.Versions.Describe())
	}
	return strings.Join(parts, ", ")
}

func signerID(g profile.ExpectedSigner) string {
	var parts []string
	if g.TeamID != "" {
		parts = append(parts, "team_id "+g.TeamID)
	}
	if g.CommonName != "" {
		parts = append(parts, "CN "+g.CommonName)
	}
	if g.Organization != "" {
		parts = append(parts, "O "+g.Organization)
	}
	for _, t := range g.Thumbprints {
		parts = append(parts, "thumbprint "+t)
	}
	return strings.Join(parts, ", ")
}

type profilesInitOptions struct {
	root, name, installPath, trustRoots string
	os                                  profile.OS
	jobs                                int
}

func newProfilesInitCmd(a *app) *cobra.Command {
	o := &profilesInitOptions{}
	c := &cobra.Command{
		Use:   "init --root DIR --os OS --name NAME [--install-path P]",
		Short: "Print a starter profile for an inspected install",
		Long: `init inspects the install under --root and prints a starter profile (JSON) for it: its
executables, the valid signers seen (Apple Team IDs; Authenticode leaves by SHA-256
thumbprint; confidence observed), where --app-version auto can read the version, its scripts,
cache and log folders where their names suggest them (rows with rule never, marked SUGGESTION:
review them before changing the rule), and TODOs under unknowns for what only the author can
know (install folder, version ranges, data folders, per-user installs, ports, the vendor's
advice). generate --profile FILE accepts the result unchanged. With --install-path, the main
application row and the suggested folders name endpoint paths; without it they are TODOs.
Save the schema next to the profile for editors: edrpolicy profiles schema > ` + profile.SchemaFile + `.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c, a) },
	}
	f := c.Flags()
	f.StringVar(&o.root, "root", "", "install folder to inspect (required)")
	f.Var((*osValue)(&o.os), "os", "windows, mac or linux: the platform of the install (required)")
	f.StringVar(&o.name, "name", "", "the new profile's name: short, no spaces or slashes (required)")
	f.StringVar(&o.installPath, "install-path", "", "the folder --root is installed as on endpoints")
	f.StringVar(&o.trustRoots, "roots", "", "PEM file of extra trusted root certificates")
	f.IntVar(&o.jobs, "jobs", 0, "files inspected in parallel (default: number of CPUs)")
	return c
}

func (o *profilesInitOptions) run(c *cobra.Command, a *app) error {
	for _, req := range []struct{ flag, val string }{{"--root", o.root}, {"--os", string(o.os)}, {"--name", o.name}} {
		if req.val == "" {
			return usageErr("%s is required", req.flag)
		}
	}
	vopts, err := verifyOptions(o.trustRoots)
	if err != nil {
		return err
	}
	p, err := edrpolicy.StarterProfile(c.Context(), edrpolicy.StarterOptions{
		Root: filepath.Clean(o.root), OS: o.os, Name: o.name, InstallPath: o.installPath,
		Inspect: edrpolicy.InspectOptions{Jobs: o.jobs, Verify: vopts},
	})
	if err != nil {
		return usageErr("profiles init: %w", err)
	}
	data, err := p.JSON()
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("profiles init: %w", err)}
	}
	if _, err := a.stdout.Write(data); err != nil {
		return writeOut(err)
	}
	fmt.Fprintf(a.stderr, "edrpolicy: profiles init: %d signer(s), %d executable(s); review the SUGGESTION rows and the TODOs under unknowns\n", len(p.Signers), len(p.Facts))
	return nil
}

// resolveProfile resolves --profile, which generate, paths and ports require: without it a
// profile's tables would silently apply to an unrelated application.
func resolveProfile(name string) (*profile.Profile, error) {
	if name == "" {
		var names []string
		if all, err := profile.BuiltIns(); err == nil {
			for _, p := range all {
				names = append(names, p.Name)
			}
		}
		return nil, usageErr("--profile is required: a built-in profile (%s; see edrpolicy profiles) or a profile file (edrpolicy profiles init starts one)", strings.Join(names, ", "))
	}
	p, err := profile.Resolve(name)
	if err != nil {
		return nil, usageErr("--profile: %w", err)
	}
	return p, nil
}

// joinOS joins operating systems' names with commas.
func joinOS(oses []profile.OS) string {
	names := make([]string, len(oses))
	for i, o := range oses {
		names[i] = string(o)
	}
	return strings.Join(names, ",")
}
