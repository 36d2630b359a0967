package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

type pathsOptions struct {
	profile     string
	os          profile.OS
	appVersion  string
	assumePaths string
	install     string
	product     string
	format      string
}

// pathsDoc is the JSON form of `paths --format json`.
type pathsDoc struct {
	Profile      string            `json:"profile"`
	Product      string            `json:"product,omitempty"`
	OS           profile.OS        `json:"os"`
	AppVersion   string            `json:"app_version,omitempty"`
	AssumedPaths string            `json:"assumed_paths,omitempty"`
	Paths        []profile.PathRow `json:"paths"`
	Unknowns     []profile.Unknown `json:"unknowns"`
}

func newPathsCmd(a *app) *cobra.Command {
	o := &pathsOptions{}
	c := &cobra.Command{
		Use:   "paths --profile NAME --os OS [--app-version V]",
		Short: "Show the profile's path table for an OS and version",
		Long: `paths prints the profile's locations for an OS and version: role, whether the role may ever
become a path rule, the install kind, and the source and confidence of each row. Without
--app-version every row is listed with its version range. A version no source covers
(code42 8.1) exits 2 naming the candidate tables and --assume-paths; so does a product whose
tables no source gives (code42 incydr-*), naming what is known instead.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(a) },
	}
	f := c.Flags()
	f.StringVar(&o.profile, "profile", "", "built-in profile (code42, generic) or profile file (JSON); required")
	f.Var((*osValue)(&o.os), "os", "windows, mac or linux (required)")
	f.StringVar(&o.appVersion, "app-version", "", "application version X.Y[.Z] (default: every version)")
	f.StringVar(&o.assumePaths, "assume-paths", "", "for a version no source covers, show the table of this candidate version")
	f.StringVar(&o.install, "install", profile.InstallAny, "install kind: all-users, per-user, legacy-os or any")
	f.StringVar(&o.product, "product", "", "product or plan of the profile (default: the profile's default product)")
	f.StringVar(&o.format, "format", "table", "output format: table or json")
	return c
}

func (o *pathsOptions) run(a *app) error {
	if o.format != "table" && o.format != "json" {
		return usageErr("--format: %q is not a format; use table or json", o.format)
	}
	if !o.os.Valid() {
		return usageErr("--os %q: want windows, mac or linux", o.os)
	}
	prof, err := resolveProfile(o.profile)
	if err != nil {
		return err
	}
	pr, err := prof.Product(o.product)
	if err != nil {
		return usageErr("--product: %w", err)
	}
	q := profile.PathQuery{OS: o.os, Install: o.install, Component: "any", Product: o.product}
	if o.appVersion != "" {
		if q.Version, err = profile.ParseVersion(o.appVersion); err != nil {
			return usageErr("--app-version: %w", err)
		}
	}
	if o.assumePaths != "" {
		if q.AssumePaths, err = profile.ParseVersion(o.assumePaths); err != nil {
			return usageErr("--assume-paths: %w", err)
		}
	}
	t, err := prof.PathTable(q)
	if err != nil {
		// An *profile.UnknownError names the gap, the candidate tables and the flag.
		return usageErr("paths: %w", err)
	}
	doc := pathsDoc{Profile: prof.Name, OS: o.os, AppVersion: q.Version.String(), Paths: t.Rows, Unknowns: t.Gaps}
	if pr != nil {
		doc.Product = pr.Name
	}
	if t.Assumed != nil {
		doc.AssumedPaths = q.AssumePaths.String()
	}
	if doc.Paths == nil {
		doc.Paths = []profile.PathRow{}
	}
	if doc.Unknowns == nil {
		doc.Unknowns = []profile.Unknown{}
	}
	if o.format == "json" {
		return writeOut(writeJSON(a.stdout, doc))
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	row(tw, "USE", "ROLE", "PATH", "KIND", "RULE", "INSTALL", "VERSIONS", "CONFIDENCE", "SOURCE")
	for _, r := range t.Rows {
		inst := r.Install
		if inst == "" {
			inst = profile.InstallAllUsers
		}
		if r.Component == "server" {
			inst += " (server)"
		}
		row(tw, r.Use, string(r.Role), r.Path, r.Kind, r.Rule, inst, r.Versions.Describe(), string(r.Confidence), prof.SourceLabels(r.Source))
	}
	for _, g := range t.Gaps {
		row(tw, "UNKNOWN ("+g.What+")", "-", g.Message, "-", "-", orDash(g.Install), g.Versions.Describe(), "-", g.Flag)
	}
	if err := tw.Flush(); err != nil {
		return writeOut(err)
	}
	if t.Assumed != nil {
		fmt.Fprintf(a.stdout, "\nassumed the paths of %s: %s\n", q.AssumePaths, esc(t.Assumed.Message))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeOut(err error) error {
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("writing output: %w", err)}
	}
	return nil
}
