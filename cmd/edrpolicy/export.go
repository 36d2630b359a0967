package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/crowdstrike"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/internal/safeopen"
	"github.com/edrpolicy/edrpolicy/output"
)

// vendorFlags are the export options shared by `export` and `generate --vendor`:
// bind them with bind and turn them into library options with options.
type vendorFlags struct {
	formats    []string
	expiration string
	inspection string

	hostGroups   []string
	csAction     string
	md5          bool
	excludedFrom []string

	s1Accounts, s1Sites, s1Groups []string
	s1Tenant                      bool
	s1Mode                        string
	s1SHA256                      bool

	defenderGroups    []string
	defenderSHA1      bool
	defenderProcesses bool
	mergePolicy       string
	defenderMerge     string
}

func (v *vendorFlags) bind(f *pflag.FlagSet) {
	f.StringSliceVar(&v.formats, "format", nil, "kinds of file to write: json, csv, cer, ps1, plist (comma-separated; default all)")
	f.StringVar(&v.expiration, "expiration", "", "expiry written into indicators: rule (each rule's expires), YYYY-MM-DD or RFC 3339 (default none)")
	f.StringVar(&v.inspection, "inspection", "", "output of 'inspect --format json --digests sha1,md5' for the same install, for hash rules whose policy carries no sha1/md5 (policies from generate --vendor carry them)")
	f.StringSliceVar(&v.hostGroups, "host-group", nil, "CrowdStrike host group ID (32 hex; repeatable; default: applied globally)")
	f.StringVar(&v.csAction, "cs-action", "allow", "CrowdStrike IOC action: allow or no_action")
	f.BoolVar(&v.md5, "md5", false, "CrowdStrike: also write md5 IOCs (generate computes MD5 then; export needs md5 on the policy's hash rules or --inspection)")
	f.StringSliceVar(&v.excludedFrom, "ml-excluded-from", nil, "CrowdStrike ML exclusions excluded_from: blocking, extraction (default blocking)")
	f.StringSliceVar(&v.s1Accounts, "s1-account-id", nil, "SentinelOne account ID scope (repeatable)")
	f.StringSliceVar(&v.s1Sites, "s1-site-id", nil, "SentinelOne site ID scope (repeatable)")
	f.StringSliceVar(&v.s1Groups, "s1-group-id", nil, "SentinelOne group ID scope (repeatable)")
	f.BoolVar(&v.s1Tenant, "s1-tenant", false, "SentinelOne: tenant-wide (global) scope")
	f.StringVar(&v.s1Mode, "s1-mode", "suppress", "SentinelOne path exclusion mode")
	f.BoolVar(&v.s1SHA256, "s1-sha256", false, "SentinelOne: also write white_hash with SHA-256 values (S1 accepting them is UNCONFIRMED)")
	f.StringSliceVar(&v.defenderGroups, "defender-group", nil, "Defender device group (RBAC) name (repeatable; default all devices)")
	f.BoolVar(&v.defenderSHA1, "defender-sha1", false, "Defender: also write FileSha1 indicators (generate computes SHA-1 then; export needs sha1 on the policy's hash rules or --inspection)")
	f.BoolVar(&v.defenderProcesses, "defender-process-exclusions", false, "Defender: also write -ExclusionProcess for executable path rules (Defender then scans nothing those processes open; off by default)")
	f.StringVar(&v.mergePolicy, "merge-policy", "merge", "Defender macOS/Linux exclusions merge policy: merge or admin_only")
	f.StringVar(&v.defenderMerge, "defender-merge", "", "Defender: the device's existing mdatp_managed.json, com.microsoft.wdav plist or .mobileconfig to merge the macOS/Linux exclusions into (a device takes one managed configuration)")
}

// maxMergeFile bounds --defender-merge: a managed configuration is a few kilobytes.
const maxMergeFile = 16 << 20

// readMergeFile reads the --defender-merge file, at most maxMergeFile bytes.
func readMergeFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, usageErr("--defender-merge: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMergeFile+1))
	if err != nil {
		return nil, usageErr("--defender-merge %s: %w", name, err)
	}
	if len(data) > maxMergeFile {
		return nil, usageErr("--defender-merge %s: larger than %d MiB: not a managed configuration", name, maxMergeFile>>20)
	}
	return data, nil
}

// vendorConfig is what the vendor flags give: the options the exporters share, and the
// registry of the built-in exporters, each configured with its vendor's flags.
type vendorConfig struct {
	opts exporters.Options
	reg  *exporters.Registry
}

// config turns the flags into the shared exporters.Options and a registry of configured
// exporters; errors are usage errors naming the flag. Every value is checked
// (exporters.ValidateOptions, exporters.Configured), used by this run's vendors or not.
func (v *vendorFlags) config() (vendorConfig, error) {
	o := exporters.Options{Formats: v.formats, Expiration: v.expiration}
	vs := exporters.Vendors{
		CrowdStrike: crowdstrike.Options{HostGroups: v.hostGroups, Action: v.csAction, MD5: v.md5, ExcludedFrom: v.excludedFrom},
		SentinelOne: sentinelone.Options{Tenant: v.s1Tenant, AccountIDs: v.s1Accounts, SiteIDs: v.s1Sites, GroupIDs: v.s1Groups, Mode: v.s1Mode, SHA256: v.s1SHA256},
		Defender:    defender.Options{RbacGroups: v.defenderGroups, SHA1: v.defenderSHA1, MergePolicy: v.mergePolicy, ProcessExclusions: v.defenderProcesses},
	}
	reg, err := exporters.Configured(vs)
	if err := errors.Join(exporters.ValidateOptions(o), err); err != nil {
		return vendorConfig{}, usageErr("%w", err)
	}
	if v.defenderMerge != "" {
		data, err := readMergeFile(v.defenderMerge)
		if err != nil {
			return vendorConfig{}, err
		}
		vs.Defender.MergeWith, vs.Defender.MergeName = data, v.defenderMerge
		if reg, err = reg.With(defender.New(vs.Defender)); err != nil {
			return vendorConfig{}, usageErr("%w", err)
		}
	}
	if v.inspection != "" {
		data, err := safeopen.ReadFile("", v.inspection, safeopen.MaxInventory)
		if err != nil {
			return vendorConfig{}, usageErr("--inspection: %w", err)
		}
		var inv edrpolicy.Inventory
		if err := json.Unmarshal(data, &inv); err != nil {
			return vendorConfig{}, usageErr("--inspection %s: not inspect JSON: %w", v.inspection, err)
		}
		o.Digests = exporters.DigestsFromInventory(&inv)
	}
	return vendorConfig{opts: o, reg: reg}, nil
}

type exportOptions struct {
	vendors []string
	out     string
	force   bool
	flags   vendorFlags
}

func newExportCmd(a *app) *cobra.Command {
	o := &exportOptions{}
	c := &cobra.Command{
		Use:   "export --vendor V [--format F] --out DIR policy.json",
		Short: "Write vendor files from an existing policy",
		Long: `export renders policy.json as the files each EDR vendor imports (crowdstrike, sentinelone,
defender) and writes them into --out together with a copy of policy.json and MANIFEST.sha256.
A vendor file that would be empty is not written. Files an earlier run listed in --out's
manifest and this run does not write are removed (export all vendors in one run, or use one
directory per vendor).

Warnings (a rule a vendor cannot express and the fallback used, formats no primary source
confirms) go to stderr. SentinelOne hash exclusions take SHA-1: a policy written by generate
--vendor sentinelone carries sha1 on its hash rules; for another policy give --inspection
(inspect --format json --digests sha1,md5 of the same install).

Exit codes: 0 written; 1 written, but some rule could not be exported for a vendor (see the
warnings); 2 usage or fatal error, or --out holding a policy.json that no MANIFEST.sha256
there lists (--force replaces it); nothing is written.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return o.run(a, args[0]) },
	}
	f := c.Flags()
	f.StringArrayVar(&o.vendors, "vendor", nil, "vendor: crowdstrike, sentinelone or defender (repeatable or comma-separated, any case)")
	f.StringVar(&o.out, "out", "", "output directory")
	f.BoolVar(&o.force, "force", false, "export path rules the guardrails refuse (drive roots, temp folders, bare wildcards...), each with a warning; the policy's own guardrail-forced warnings are not trusted")
	o.flags.bind(f)
	return c
}

func (o *exportOptions) run(a *app, policyFile string) error {
	vendors, err := exporters.ParseVendors(exporters.Default(), o.vendors) // a,b; any case
	if err != nil {
		return usageErr("--vendor %w", err)
	}
	o.vendors = vendors
	if len(o.vendors) == 0 {
		return usageErr("--vendor: give at least one of %s", strings.Join(exporters.Default().Names(), ", "))
	}
	if o.out == "" {
		return usageErr("--out: give the output directory")
	}
	p, raw, err := edrpolicy.ReadPolicyFile(policyFile)
	if err != nil {
		return usageErr("%w", err)
	}
	if !sameFile(policyFile, filepath.Join(o.out, output.PolicyFileName)) {
		if err := checkOutDir(o.out, ""); err != nil && !o.force {
			return usageErr("export: %w", err)
		}
	}
	vc, err := o.flags.config()
	if err != nil {
		return err
	}
	vc.opts.Force, vc.opts.Guardrails = o.force, edrpolicy.HostGuardrails()
	res, err := exporters.Collect(vc.reg, p, o.vendors, vc.opts)
	if err != nil {
		return usageErr("export %s: %w", policyFile, err)
	}
	files := append(res.Files, output.File{Name: output.PolicyFileName, Data: raw})
	if err := output.WriteSet(o.out, files); err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("export: %w", err)}
	}
	attn := printExportResult(a, res)
	fmt.Fprintf(a.stdout, "wrote %d file(s) and %s to %s\n", len(files), output.ManifestName, esc(o.out))
	if attn {
		return attention()
	}
	return nil
}

// sameFile reports whether a and b are the same existing file (export of a folder's own
// policy.json back into that folder).
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// printExportResult writes the export's warnings to stderr, one per line, then one coverage
// line per vendor, and reports whether something needs attention (a rule not exported, an
// executable no entry covers).
func printExportResult(a *app, res *exporters.Result) bool {
	skipped := 0
	for _, w := range res.Warnings {
		if w.Code == exporters.WarnSkipped {
			skipped++
		}
		warnLine(a, w.Code, w.Message)
	}
	for i := range res.Coverage.Vendors {
		fmt.Fprintf(a.stderr, "edrpolicy: coverage: %s\n", esc(res.Coverage.Vendors[i].Line()))
	}
	return skipped > 0 || res.Coverage.NotCovered() > 0
}
