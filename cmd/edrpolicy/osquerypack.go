package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy/fleet"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
)

type osqueryPackOptions struct {
	profile     string
	os          profile.OS
	versions    []string
	product     string
	assumePaths string
	vendors     []string
	interval    int
}

func newOsqueryPackCmd(a *app) *cobra.Command {
	o := &osqueryPackOptions{}
	c := &cobra.Command{
		Use:   "osquery-pack --profile P --os OS --app-version V [--vendor V]",
		Short: "Print an osquery query pack that collects the evidence generate --evidence reads",
		Long: `osquery-pack prints an osquery query pack (JSON with "queries") for the profile's executable
folders at each --app-version (repeat it for every version the fleet still runs): each
regular file's path, size and SHA-256 (SHA-1 too with --vendor sentinelone), on Windows the
file table's file_version, product_version and original_filename and the authenticode
table's result and signer names, on macOS the signature table's signed, identifier, cdhash,
team_identifier, authority and arch, and each app bundle's version (apps table). Per-user
folders are matched for every user (C:\Users\%\..., /Users/%/...); a folder is matched with
osquery's recursive '%%' at its end. Schedule it in osquery or Fleet, then feed a day of
results to generate --evidence.

Exit codes: 0 pack printed; 2 usage error, or a version no source covers (the message names
--assume-paths).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(a) },
	}
	f := c.Flags()
	f.StringVar(&o.profile, "profile", "", "built-in profile (code42, generic) or profile file (JSON); required")
	f.Var((*osValue)(&o.os), "os", "windows, mac or linux (required)")
	f.StringArrayVar(&o.versions, "app-version", nil, "application version X.Y[.Z] whose folders to collect (required; repeatable)")
	f.StringVar(&o.product, "product", "", "product or plan of the profile (default: the profile's default product)")
	f.StringVar(&o.assumePaths, "assume-paths", "", "for a version no source covers, collect the folders of this candidate version")
	f.StringArrayVar(&o.vendors, "vendor", nil, "vendors the evidence is for (sentinelone adds SHA-1); repeatable or comma-separated")
	f.IntVar(&o.interval, "interval", fleet.DefaultPackInterval, "schedule interval in seconds")
	return c
}

func (o *osqueryPackOptions) run(a *app) error {
	if o.os == "" {
		return usageErr("--os is required: windows, mac or linux")
	}
	if o.interval < 1 {
		return usageErr("--interval %d: want a number of seconds", o.interval)
	}
	prof, err := resolveProfile(o.profile)
	if err != nil {
		return err
	}
	if _, err := prof.Product(o.product); err != nil {
		return usageErr("--product: %w", err)
	}
	opts := fleet.PackOptions{Profile: prof, OS: o.os, Versions: o.versions, Product: o.product, AssumePaths: o.assumePaths, Interval: o.interval}
	reg := exporters.Default()
	for _, list := range o.vendors {
		for _, v := range strings.Split(list, ",") {
			v = strings.ToLower(strings.TrimSpace(v))
			if _, ok := reg.Lookup(v); !ok {
				return usageErr("--vendor %q: want %s", v, strings.Join(reg.Names(), ", "))
			}
			opts.SHA1 = opts.SHA1 || v == "sentinelone"
		}
	}
	pack, err := fleet.BuildPack(opts)
	if err != nil {
		return usageErr("osquery-pack: %w", err)
	}
	data, err := pack.JSON()
	if err != nil {
		return usageErr("osquery-pack: %w", err)
	}
	if _, err := a.stdout.Write(data); err != nil {
		return usageErr("writing output: %w", err)
	}
	return nil
}
