package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

type portsOptions struct {
	profile       string
	appVersion    string
	serverVersion string
	component     string
	format        string
}

// portsDoc is the JSON form of `ports --format json`.
type portsDoc struct {
	Profile       string            `json:"profile"`
	AppVersion    string            `json:"app_version,omitempty"`
	ServerVersion string            `json:"server_version,omitempty"`
	Ports         []profile.PortRow `json:"ports"`
	Notes         []profile.Note    `json:"notes"`
}

func newPortsCmd(a *app) *cobra.Command {
	o := &portsOptions{}
	c := &cobra.Command{
		Use:   "ports --profile NAME [--app-version V] [--server-version V]",
		Short: "Show the profile's network ports",
		Long: `ports prints the network ports of the application (component app) and its server (component
server) with their version conditions, status and source. A row's condition is on the app's
version (APP column) or on the server's (SERVER column): with --app-version and
--server-version, rows whose condition excludes the version are left out, and the app
version's notes are shown. STATUS unknown marks a row whose port no source gives (PORT ?);
"required: 4287 or 443" marks ports of which one must be open.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(a) },
	}
	f := c.Flags()
	f.StringVar(&o.profile, "profile", "", "built-in profile (code42, generic) or profile file (JSON); required")
	f.StringVar(&o.appVersion, "app-version", "", "the app's version X.Y[.Z] (default: every version)")
	f.StringVar(&o.serverVersion, "server-version", "", "the server's version X.Y[.Z] (default: every version)")
	f.StringVar(&o.component, "component", "", "app or server (default: both)")
	f.StringVar(&o.format, "format", "table", "output format: table or json")
	return c
}

func (o *portsOptions) run(a *app) error {
	if o.format != "table" && o.format != "json" {
		return usageErr("--format: %q is not a format; use table or json", o.format)
	}
	if o.component != "" && o.component != "app" && o.component != "server" {
		return usageErr("--component %q: want app or server", o.component)
	}
	prof, err := resolveProfile(o.profile)
	if err != nil {
		return err
	}
	q := profile.PortQuery{Component: o.component}
	if o.appVersion != "" {
		if q.Version, err = profile.ParseVersion(o.appVersion); err != nil {
			return usageErr("--app-version: %w", err)
		}
	}
	if o.serverVersion != "" {
		if q.ServerVersion, err = profile.ParseVersion(o.serverVersion); err != nil {
			return usageErr("--server-version: %w", err)
		}
	}
	doc := portsDoc{Profile: prof.Name, AppVersion: q.Version.String(), ServerVersion: q.ServerVersion.String(), Ports: prof.PortsFor(q), Notes: []profile.Note{}}
	if !q.Version.IsZero() {
		doc.Notes = append(doc.Notes, prof.NotesFor("", q.Version)...)
	} else {
		doc.Notes = append(doc.Notes, prof.Notes...)
	}
	if doc.Ports == nil {
		doc.Ports = []profile.PortRow{}
	}
	if o.format == "json" {
		return writeOut(writeJSON(a.stdout, doc))
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	row(tw, "PORT", "PROTOCOL", "COMPONENT", "DIRECTION", "FROM", "TO", "STATUS", "APP", "SERVER", "DESCRIPTION", "SOURCE")
	for _, r := range doc.Ports {
		row(tw, portNumber(r), orDash(r.Protocol), r.Component, r.Direction, r.From, r.To, portStatus(r),
			r.Versions.Describe(), r.ServerVersions.Describe(), r.Description, prof.SourceLabels(r.Source))
	}
	if err := tw.Flush(); err != nil {
		return writeOut(err)
	}
	for _, n := range doc.Notes {
		cond := ""
		if !n.Versions.All() {
			cond = " [" + n.Versions.Describe() + "]"
		}
		fmt.Fprintf(a.stdout, "note%s: %s (%s)\n", esc(cond), esc(n.Message), esc(prof.SourceLabels(n.Source)))
	}
	return nil
}

// portNumber is the port, or ? when no source gives it.
func portNumber(r profile.PortRow) string {
	if r.Port == 0 {
		return "?"
	}
	return strconv.Itoa(r.Port)
}

// portStatus is the status with the ports of which one must be open ("required: 4287 or 443").
func portStatus(r profile.PortRow) string {
	if len(r.Alternatives) == 0 {
		return r.Status
	}
	ports := []string{strconv.Itoa(r.Port)}
	for _, a := range r.Alternatives {
		ports = append(ports, strconv.Itoa(a))
	}
	return r.Status + ": " + strings.Join(ports, " or ")
}
