// Package verify checks an output folder of `edrpolicy generate --out` or `export`: what
// reaches each console is what the policy decided.
//
// Check verifies MANIFEST.sha256 first, lints the folder's policy.json and simulates it
// against the install (check.Run), then reads every vendor file back into entries
// (exporters.ReadSet) and simulates each vendor with that vendor's own matching (the
// exporters' Reader.Allows): an inspected executable that a vendor's files do not allow is
// an error for that vendor, named with the executable's endpoint path. A vendor whose files
// are alternatives for the same entries (Defender's portal CSV and API JSON, Falcon's console
// CSV and API JSON) is simulated once per import route, so an entry missing from one of them
// is found. Hash and path rules are also checked against each vendor's entries directly
// (EDR211), and every entry is traced back to the policy: an entry that exporting
// policy.json does not give is reported (EDR212).
//
// The package sits above exporters (it needs the vendor readers) and below cmd; the finding
// ids are edrpolicy's (EDR2xx).
package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/check"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/output"
)

// Options configure Check.
type Options struct {
	// Check are the options of the policy check and simulation (check.Run): the install
	// roots (without them only the folder, the policy and the expression of hash and path
	// rules are checked), their endpoint folders, the inspection, the time. SHA-1 and MD5 are
	// always computed for the simulation (the vendors match them).
	Check check.Options
	// Vendors are the vendors the folder must serve; empty means every vendor it holds files
	// of. A vendor listed here without files covers nothing.
	Vendors []string
	// Registry holds the vendor readers; nil means exporters.Default().
	Registry *exporters.Registry
}

// Report is the result of Check: the policy check report with the output folder's findings
// added, and a coverage summary per vendor.
type Report struct {
	*check.Report
	// Dir is the output folder.
	Dir string `json:"output_dir"`
	// Vendors summarizes each vendor's files and coverage, sorted by vendor.
	Vendors []VendorSummary `json:"vendors"`
}

// VendorSummary is one vendor's part of an output folder.
type VendorSummary struct {
	Vendor string `json:"vendor"`
	// Files are the vendor's files in the folder.
	Files []string `json:"files"`
	// Entries counts the entries read back from them.
	Entries int `json:"entries"`
	// Executables, Covered and NotCovered count the simulated executables (only those the
	// policy covers) and whether every import route of the vendor allows them.
	Executables int    `json:"executables"`
	Covered     int    `json:"covered"`
	NotCovered  int    `json:"not_covered"`
	Text        string `json:"text"`
}

// Check verifies the output folder dir. The error return is for a folder that cannot be
// listed, an unknown vendor, a root that is not a directory and a cancelled context;
// everything about the folder's content is a finding.
func Check(ctx context.Context, dir string, o Options) (*Report, error) {
	reg := o.Registry
	if reg == nil {
		reg = exporters.Default()
	}
	now := o.Check.Now
	if now.IsZero() {
		now = time.Now()
	}
	set, err := exporters.ReadSet(reg, dir)
	if err != nil {
		return nil, err
	}
	vendors, err := vendorsOf(reg, set, o.Vendors)
	if err != nil {
		return nil, err
	}
	c := &checker{reg: reg, set: set, now: now, vendors: vendors}
	c.setFindings()
	pol := c.policy()
	rep := &check.Report{SchemaVersion: edrpolicy.SchemaVersion, Findings: []check.Finding{}}
	if pol != nil {
		co := o.Check
		co.Inspect.Digests.SHA1, co.Inspect.Digests.MD5 = true, true
		co.Now = now
		rep, err = check.Run(ctx, pol, co)
		if err != nil {
			return nil, err
		}
		c.pol = pol
		c.simulate(rep.Simulation)
		c.rulesExpressed()
		c.trace()
	}
	rep.Findings = append(rep.Findings, c.findings...)
	rep.Summarize()
	return &Report{Report: rep, Dir: dir, Vendors: c.summaries()}, nil
}

// vendorsOf returns the vendors to check: those asked for (each must have a reader), else
// those the folder holds files of.
func vendorsOf(reg *exporters.Registry, set *exporters.Set, asked []string) ([]string, error) {
	if len(asked) == 0 {
		return set.Vendors(), nil
	}
	seen := map[string]bool{}
	var out []string
	for _, v := range asked {
		v = strings.ToLower(strings.TrimSpace(v))
		if _, ok := reg.Reader(v); !ok {
			return nil, fmt.Errorf("vendor %q: unknown, or its files cannot be read back; known: %s", v, strings.Join(reg.Names(), ", "))
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out, nil
}

// checker holds the state of one Check.
type checker struct {
	reg      *exporters.Registry
	set      *exporters.Set
	pol      *edrpolicy.Policy
	now      time.Time
	vendors  []string
	findings []check.Finding
	// simulated are the SHA-256 and endpoint paths of the executables simulated, so that
	// rule-level checks skip what the simulation already proved.
	simSums, simPaths map[string]bool
	// coverage counts per vendor: executables simulated, and those not covered;
	// simulatedAny says whether an install was simulated at all.
	simulated, gaps map[string]int
	simulatedAny    bool
}

func (c *checker) add(id string, sev check.Severity, vendor, file string, rule int, format string, args ...any) {
	f := check.Finding{ID: id, Severity: sev, Vendor: vendor, File: file, Message: fmt.Sprintf(format, args...)}
	if c.pol != nil && rule >= 0 && rule < len(c.pol.Rules) {
		i := rule
		f.Rule = &i
		f.Criterion, f.Value = c.pol.Rules[i].Criterion, c.pol.Rules[i].Value
	}
	c.findings = append(c.findings, f)
}

// problemIDs maps the folder's problems to finding ids.
var problemIDs = map[string]string{
	exporters.ProblemNoManifest:   check.FindingManifest,
	exporters.ProblemManifestLine: check.FindingManifest,
	exporters.ProblemEscape:       check.FindingManifestEscape,
	exporters.ProblemMismatch:     check.FindingManifestMismatch,
	exporters.ProblemMissing:      check.FindingManifestMissing,
	exporters.ProblemUnlisted:     check.FindingManifestUnlisted,
	exporters.ProblemUnreadable:   check.FindingVendorFile,
	exporters.ProblemParse:        check.FindingVendorFile,
}

func (c *checker) setFindings() {
	for _, p := range c.set.Problems {
		c.add(problemIDs[p.Code], check.SeverityError, p.Vendor, p.File, -1, "%s", p.Message)
	}
}

// policy parses the folder's policy.json, or records why there is none.
func (c *checker) policy() *edrpolicy.Policy {
	if c.set.Policy == nil {
		c.add(check.FindingNoPolicy, check.SeverityError, "", output.PolicyFileName, -1, "no readable %s in the folder: the vendor files cannot be checked against a policy", output.PolicyFileName)
		return nil
	}
	pol, err := edrpolicy.ParsePolicy(c.set.Policy)
	if err != nil {
		c.add(check.FindingNoPolicy, check.SeverityError, "", output.PolicyFileName, -1, "%s: %v", output.PolicyFileName, err)
		return nil
	}
	return pol
}

// summaries returns the per-vendor summary.
func (c *checker) summaries() []VendorSummary {
	out := []VendorSummary{}
	for _, v := range c.vendors {
		s := VendorSummary{Vendor: v, Files: []string{}, Executables: c.simulated[v], NotCovered: c.gaps[v]}
		for _, f := range c.set.Files {
			if f.Vendor == v && !f.Removal {
				s.Files = append(s.Files, f.Name)
				s.Entries += len(f.Entries)
			}
		}
		s.Covered = s.Executables - s.NotCovered
		s.Text = fmt.Sprintf("%s: %d file(s), %d entries; %d of %d executable(s) covered", v, len(s.Files), s.Entries, s.Covered, s.Executables)
		if !c.simulatedAny {
			s.Text = fmt.Sprintf("%s: %d file(s), %d entries; executables not simulated (no install root given)", v, len(s.Files), s.Entries)
		}
		out = append(out, s)
	}
	return out
}
