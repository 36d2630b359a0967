package verify

import (
	"github.com/edrpolicy/edrpolicy/edrpolicy/check"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/crowdstrike"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/output"
)

// traceOptions export everything any option could add to a vendor's files (every format,
// guardrail refusals), with traceRegistry's exporters, so that every entry a generate or
// export run could have written from the policy is among the entries traced.
func traceOptions() exporters.Options {
	return exporters.Options{Force: true}
}

// traceVendors configure the built-in exporters to write everything an option could add
// (the optional digests, process exclusions, SHA-256 white_hash).
var traceVendors = exporters.Vendors{
	CrowdStrike: crowdstrike.Options{MD5: true},
	SentinelOne: sentinelone.Options{Tenant: true, SHA256: true},
	Defender:    defender.Options{SHA1: true, ProcessExclusions: true},
}

// traceRegistry is reg with the built-in exporters configured by traceVendors.
func traceRegistry(reg *exporters.Registry) (*exporters.Registry, error) {
	for _, e := range []exporters.Exporter{crowdstrike.New(traceVendors.CrowdStrike), sentinelone.New(traceVendors.SentinelOne), defender.New(traceVendors.Defender)} {
		var err error
		if reg, err = reg.With(e); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// managedSettings are files that may hold exclusions merged from an existing configuration
// (generate --defender-merge): an entry there that the policy does not give is a warning.
var managedSettings = map[string]bool{defender.ManagedFile: true, defender.WDAVFile: true, defender.MobileconfigFile: true}

// trace reports every entry of the folder's vendor files that exporting policy.json does not
// give: an entry added by hand, or one broader than the policy asks for.
func (c *checker) trace() {
	if len(c.vendors) == 0 {
		return
	}
	reg, err := traceRegistry(c.reg)
	if err != nil {
		c.add(check.FindingEntryNotInPolicy, check.SeverityError, "", output.PolicyFileName, -1, "the vendor entries cannot be traced to the policy: %v", err)
		return
	}
	files, _, err := exporters.Export(reg, c.pol, c.vendors, traceOptions())
	if err != nil {
		c.add(check.FindingEntryNotInPolicy, check.SeverityError, "", output.PolicyFileName, -1, "the vendor entries cannot be traced to the policy: exporting it fails: %v", err)
		return
	}
	want, err := exporters.ParseFiles(c.reg, files)
	if err != nil {
		c.add(check.FindingEntryNotInPolicy, check.SeverityError, "", output.PolicyFileName, -1, "the vendor entries cannot be traced to the policy: its export does not read back: %v", err)
		return
	}
	keys := map[string]bool{}
	for _, e := range want {
		keys[exporters.EntryKey(e)] = true
	}
	// Without --force some vendors write another form than with it (SentinelOne: the signer
	// rule's files by hash rather than a publisher-name certificate exclusion): those entries
	// are the policy's too. An export that --force alone makes possible fails here: skip it.
	unforced := traceOptions()
	unforced.Force = false
	if files, _, err := exporters.Export(reg, c.pol, c.vendors, unforced); err == nil {
		if more, err := exporters.ParseFiles(c.reg, files); err == nil {
			for _, e := range more {
				keys[exporters.EntryKey(e)] = true
			}
		}
	}
	asked := map[string]bool{}
	for _, v := range c.vendors {
		asked[v] = true
	}
	for _, f := range c.set.Files {
		if !asked[f.Vendor] || f.Removal {
			continue
		}
		for _, e := range f.Entries {
			if keys[exporters.EntryKey(e)] {
				continue
			}
			sev, why := check.SeverityError, "added by hand, or broader than the policy: remove it, or regenerate the folder"
			if managedSettings[f.Name] {
				sev, why = check.SeverityWarning, "merged from an existing configuration, or added by hand: check that it belongs there"
			}
			c.add(check.FindingEntryNotInPolicy, sev, f.Vendor, f.Name, -1, "%s: %s %s %q is not an entry %s gives: %s", f.Vendor, e.Kind, e.Type, e.Value, output.PolicyFileName, why)
		}
	}
}
