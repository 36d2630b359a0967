package verify

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/check"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/signers"
)

// route is one import route of a vendor: the files a console takes together. A vendor whose
// files are alternatives (Defender: portal CSV or API JSON) has one route per alternative,
// each with the files every route shares.
type route struct {
	name    string
	files   []string
	entries []exporters.Entry
}

// describe names the route's files for a message.
func (r route) describe() string {
	files := "no files"
	if len(r.files) > 0 {
		files = strings.Join(r.files, ", ")
	}
	if r.name == "" {
		return files
	}
	return fmt.Sprintf("the %s route (%s)", r.name, files)
}

// routes returns vendor v's import routes, sorted by name.
func (c *checker) routes(v string) []route {
	named := map[string]bool{}
	for _, f := range c.set.Files {
		if f.Vendor == v && !f.Removal && f.Channel != "" {
			named[f.Channel] = true
		}
	}
	names := []string{""}
	if len(named) > 0 {
		names = names[:0]
		for n := range named {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	out := make([]route, 0, len(names))
	for _, n := range names {
		r := route{name: n}
		for _, f := range c.set.Files {
			if f.Vendor == v && !f.Removal && (f.Channel == "" || f.Channel == n) {
				r.files = append(r.files, f.Name)
				r.entries = append(r.entries, f.Entries...)
			}
		}
		out = append(out, r)
	}
	return out
}

// allows reports whether any entry allows t.
func allows(rd exporters.Reader, es []exporters.Entry, t exporters.Subject, now time.Time) bool {
	for _, e := range es {
		if rd.Allows(e, t, now) {
			return true
		}
	}
	return false
}

// simulate asks every vendor, route by route, about every executable the policy covers
// (one the policy does not cover is already an EDR101 finding).
func (c *checker) simulate(sim *check.Simulation) {
	c.simSums, c.simPaths = map[string]bool{}, map[string]bool{}
	c.simulated, c.gaps = map[string]int{}, map[string]int{}
	if sim == nil {
		return
	}
	c.simulatedAny = true
	covered := map[string]bool{}
	for _, f := range sim.Files {
		if f.CoveredBy != "" {
			covered[f.Path] = true
		}
	}
	var execs []check.Executable
	for _, ex := range sim.Evidence {
		if covered[ex.Path] {
			execs = append(execs, ex)
			c.simSums[strings.ToLower(ex.File.SHA256)] = true
			for _, ep := range ex.Endpoints {
				c.simPaths[ep] = true
			}
		}
	}
	for _, v := range c.vendors {
		rd, _ := c.reg.Reader(v)
		routes := c.routes(v)
		for _, ex := range execs {
			c.simulated[v]++
			if c.simulateOne(v, rd, routes, ex) {
				c.gaps[v]++
			}
		}
	}
}

// simulateOne checks one executable at each of its endpoint paths against every route of
// vendor v, and reports whether some route left it uncovered.
func (c *checker) simulateOne(v string, rd exporters.Reader, routes []route, ex check.Executable) bool {
	gap := false
	for _, ep := range ex.Endpoints {
		t := exporters.SubjectFor(c.pol.OS, ep, ex.File)
		var missing []route
		for _, r := range routes {
			if !allows(rd, r.entries, t, c.now) {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			gap = true
			c.add(check.FindingVendorNotCovered, check.SeverityError, v, ep, -1, "%s: would not be allowed: %s (%s)", v, gapText(routes, missing), describeFile(ex.File))
		}
	}
	return gap
}

// gapText says which of a vendor's routes miss a file: all of its files, or the files of the
// routes that miss it.
func gapText(all, missing []route) string {
	if len(missing) == len(all) {
		seen := map[string]bool{}
		var files []string
		for _, r := range all {
			for _, f := range r.files {
				if !seen[f] {
					seen[f] = true
					files = append(files, f)
				}
			}
		}
		sort.Strings(files)
		if len(files) == 0 {
			return "the folder has no file of this vendor"
		}
		return "no entry of its files allows it (" + strings.Join(files, ", ") + ")"
	}
	var parts []string
	for _, r := range missing {
		parts = append(parts, r.describe())
	}
	return "no entry of " + strings.Join(parts, "; ") + " allows it"
}

// describeFile says what a vendor could have matched the file by.
func describeFile(f *edrpolicy.FileEvidence) string {
	what := "sha256 " + f.SHA256
	switch f.SignatureStatus {
	case signers.StatusValid:
		if s := firstValid(f); s != nil && s.TeamID != "" {
			what += fmt.Sprintf(", valid signature, Team ID %s, leaf %s (SHA-1 %s)", s.TeamID, s.Signer.CommonName, s.Signer.ThumbprintSHA1)
		} else if s != nil {
			what += fmt.Sprintf(", valid signature by %s (SHA-1 %s)", s.Signer.CommonName, s.Signer.ThumbprintSHA1)
		}
	case "":
	default:
		what += ", " + string(f.SignatureStatus)
	}
	return what
}

// firstValid returns the file's first valid signature that names its signer.
func firstValid(f *edrpolicy.FileEvidence) *signers.Signature {
	for i := range f.Signatures {
		if s := &f.Signatures[i]; s.Status == signers.StatusValid && s.Signer != nil {
			return s
		}
	}
	return nil
}
