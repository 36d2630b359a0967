package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

type profilesOptions struct {
	format string
}

// profileSummary is one entry of `profiles --format json`.
type profileSummary struct {
	Name     string           `json:"name"`
	Title    string           `json:"title"`
	OS       []string         `json:"os"`
	Eras     []profile.Era    `json:"eras"`
	Products []string         `json:"products"`
	Sources  []profile.Source `json:"sources"`
	Unknowns int              `json:"unknowns"`
}

func newProfilesCmd(a *app) *cobra.Command {
	o := &profilesOptions{}
	c := &cobra.Command{
		Use:   "profiles",
		Short: "List the built-in profiles",
		Long: `profiles lists the built-in application profiles with the OSes, version eras and products
they cover and the sources their rows cite. Any other application is described by a profile
file of the same schema, given to generate, paths and ports with --profile FILE.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(a) },
	}
	c.Flags().StringVar(&o.format, "format", "table", "output format: table or json")
	return c
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
		s := profileSummary{Name: p.Name, Title: p.Title, OS: p.OSes(), Eras: p.Eras, Sources: p.Sources, Unknowns: len(p.Unknowns), Products: []string{}}
		for _, pr := range p.Products {
			s.Products = append(s.Products, pr.Name)
		}
		docs = append(docs, s)
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
		row(tw, s.Name, s.Title, strings.Join(s.OS, ","), strings.Join(eras, "; "), strings.Join(s.Products, ","), fmt.Sprint(len(s.Sources)), fmt.Sprint(s.Unknowns))
	}
	if err := tw.Flush(); err != nil {
		return writeOut(err)
	}
	for _, s := range docs {
		fmt.Fprintf(a.stdout, "\n%s sources:\n", esc(s.Name))
		for _, src := range s.Sources {
			fmt.Fprintf(a.stdout, "  %-24s %-10s %s\n", esc(src.ID), esc(src.Confidence), esc(src.Ref))
		}
	}
	return nil
}
