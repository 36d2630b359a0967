package fleet

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// decidedVersion is one version's decision.
type decidedVersion struct {
	v   *version
	pol *edrpolicy.Policy
}

// decideVersion decides the policy of one version from the fleet's evidence of it.
func (r *fleetRun) decideVersion(v *version, current bool) (decidedVersion, error) {
	d := r.opts.Generate.Decide
	q := profile.PathQuery{OS: d.OS, Version: v.v, Install: profile.InstallAny, Product: d.Product, OwnInstallPaths: true}
	var err error
	if current && d.AssumePaths != "" {
		if q.AssumePaths, err = profile.ParseVersion(d.AssumePaths); err != nil {
			return decidedVersion{}, &edrpolicy.OptionError{Field: "AssumePaths", Value: d.AssumePaths, Reason: err.Error(), Err: err}
		}
	}
	table, err := d.Profile.PathTable(q)
	var ue *profile.UnknownError
	switch {
	case err != nil && !current && errors.As(err, &ue):
		r.warnings = append(r.warnings, r.m.finding(WarnOutlier, fmt.Sprintf("version %s runs on %d hosts, but no source gives its paths (%s): no rules for it; an assumed path table applies to the policy's own version only", v.name, v.n, ue.Gap.Message), "", hostsOf(v.hosts), v.hosts))
		v.status = statusOutlier
		return decidedVersion{v: v}, nil
	case err != nil:
		return decidedVersion{}, fmt.Errorf("version %s: %w", orNone(v.name), err)
	}
	var folders []folder
	for _, row := range table.Rows {
		if row.Role != profile.RoleExecutable {
			continue
		}
		if f, ok := folderOf(d.OS, row); ok {
			folders = append(folders, f)
		}
	}
	vf := r.m.analyze(v, folders, r.t, v.name != "" && v.name == r.localVer)
	r.warnings = append(r.warnings, vf.warnings...)
	if len(vf.noRef) > 0 && d.Level != edrpolicy.CriterionHash && d.Level != "" {
		sort.Strings(vf.noRef)
		r.warnings = append(r.warnings, edrpolicy.Warning{Code: WarnNoReference, Files: vf.noRef,
			Message: fmt.Sprintf("%d file(s)%s have no inspect evidence of a reference host with the same SHA-256: hash rules (osquery reports no certificate thumbprint); add the inspect evidence (JSON) of a host running this version, or inspect its install here as a root", len(vf.noRef), versionLabel(v))})
	}
	d.Version, d.VersionSource = v.name, fmt.Sprintf("fleet: %d host(s) run it", v.n)
	if current && r.explicit != "" {
		d.VersionSource = r.opts.Generate.Decide.VersionSource
		if d.VersionSource == "" {
			d.VersionSource = edrpolicy.VersionGiven
		}
	}
	d.InstallPaths = vf.roots
	if len(d.InstallPaths) == 0 {
		// The evidence gives the endpoint paths: a table no source gives does not block.
		d.InstallPaths = map[string][]string{"": nil}
	}
	if !current {
		d.Previous, d.KeepPrevious, d.AssumePaths = nil, false, ""
	}
	pol, err := edrpolicy.Decide(&edrpolicy.Inventory{SchemaVersion: edrpolicy.SchemaVersion, Files: vf.files}, d)
	if err != nil {
		return decidedVersion{}, fmt.Errorf("version %s: %w", orNone(v.name), err)
	}
	return decidedVersion{v: v, pol: pol}, nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Warnings of another version's decision that concern its own files, carried into the
// policy with the version named.
var versionWarnings = map[edrpolicy.WarningCode]bool{
	edrpolicy.WarnTampered: true, edrpolicy.WarnUnexpectedSigner: true, edrpolicy.WarnSignerExpired: true,
	edrpolicy.WarnSignerExpiring: true, edrpolicy.WarnGuardrailForced: true, edrpolicy.WarnUnknownPaths: true,
	edrpolicy.WarnWeakDigest: true,
}

// assemble makes one policy of the current version's decision and the covered versions'
// rules, labelled with their version.
func (r *fleetRun) assemble(decided []decidedVersion, versions []*version) (*edrpolicy.Policy, error) {
	var pol *edrpolicy.Policy
	for _, dv := range decided {
		if dv.v.status == statusCurrent {
			pol = dv.pol
		}
	}
	if pol == nil {
		return nil, errors.New("no version to decide")
	}
	files := pol.Summary.Files
	byKey := map[string]int{}
	for i := range pol.Rules {
		byKey[ruleKey(&pol.Rules[i], pol.Rules[i].AppVersion)] = i
	}
	seenWarn := map[string]bool{}
	for _, w := range pol.Warnings {
		seenWarn[string(w.Code)+"\x00"+w.Message] = true
	}
	for _, dv := range decided {
		if dv.pol == nil || dv.pol == pol {
			continue
		}
		files += dv.pol.Summary.Files
		for _, rule := range dv.pol.Rules {
			if i, ok := byKey[ruleKey(&rule, "")]; ok {
				mergeRule(&pol.Rules[i], &rule)
				continue
			}
			k := ruleKey(&rule, dv.v.name)
			if i, ok := byKey[k]; ok {
				mergeRule(&pol.Rules[i], &rule)
				continue
			}
			rule.AppVersion = dv.v.name
			rule.Reason += fmt.Sprintf("; kept for version %s, which %d host(s) of the fleet still run: it goes when no host runs it", dv.v.name, dv.v.n)
			byKey[k] = len(pol.Rules)
			pol.Rules = append(pol.Rules, rule)
		}
		for _, w := range dv.pol.Warnings {
			if !versionWarnings[w.Code] {
				continue
			}
			w.Message = "version " + dv.v.name + ": " + w.Message
			if !seenWarn[string(w.Code)+"\x00"+w.Message] {
				seenWarn[string(w.Code)+"\x00"+w.Message] = true
				pol.Warnings = append(pol.Warnings, w)
			}
		}
	}
	pol.Fleet = r.summary(versions)
	pol.Warnings = append(pol.Warnings, r.warnings...)
	pol.Partial = pol.Partial || r.partial
	edrpolicy.SortPolicy(pol)
	pol.Summary = summarize(pol, files, pol.Fleet)
	return pol, nil
}

// ruleKey identifies an exception across versions: the same criterion and value for the
// same kind of files is one rule.
func ruleKey(r *edrpolicy.Rule, version string) string {
	return strings.Join([]string{string(r.Criterion), string(r.Platform), string(r.Role), r.Value, string(r.Match), r.FileName, r.SigningID, version}, "\x00")
}

// mergeRule adds the files of from to to.
func mergeRule(to, from *edrpolicy.Rule) {
	for _, f := range from.Files {
		to.Files = appendOnce(to.Files, f)
	}
	for _, fd := range from.FileDigests {
		dup := false
		for _, have := range to.FileDigests {
			if have == fd {
				dup = true
				break
			}
		}
		if !dup {
			to.FileDigests = append(to.FileDigests, fd)
		}
	}
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// summary is policy.json's "fleet".
func (r *fleetRun) summary(versions []*version) *edrpolicy.FleetSummary {
	s := &edrpolicy.FleetSummary{Hosts: len(r.m.hostNames), Rows: r.rows, Ignored: r.m.ignored, MinHosts: r.t.minHosts, MinShare: r.t.minShare,
		Evidence: r.sources, Versions: []edrpolicy.FleetVersion{}}
	for _, v := range versions {
		s.Versions = append(s.Versions, edrpolicy.FleetVersion{Version: v.name, Hosts: v.n, Status: v.status})
	}
	if s.Evidence == nil {
		s.Evidence = []edrpolicy.FleetSource{}
	}
	for _, w := range r.warnings {
		switch w.Code {
		case WarnOutlier, WarnVersionUnknown, WarnEvidence, WarnNoDigest:
			s.Findings++
		}
	}
	if r.m.ignored > 0 {
		r.warnings = append(r.warnings, edrpolicy.Warning{Code: WarnIgnored, Message: fmt.Sprintf("%d row(s) concern no executable folder of the profile or carry nothing edrpolicy reads (rows of other queries): ignored", r.m.ignored)})
	}
	return s
}

// summarize counts the assembled policy's rules.
func summarize(pol *edrpolicy.Policy, files int, f *edrpolicy.FleetSummary) edrpolicy.Summary {
	s := edrpolicy.Summary{Files: files, Rules: len(pol.Rules)}
	nKept := 0
	var kept []string
	for _, r := range pol.Rules {
		switch r.Criterion {
		case edrpolicy.CriterionHash:
			s.Hash++
		case edrpolicy.CriterionSigner:
			s.Signer++
		case edrpolicy.CriterionPath:
			s.Path++
		}
		if r.AppVersion != "" {
			nKept++
			kept = appendOnce(kept, r.AppVersion)
		}
	}
	var vs []string
	for _, v := range f.Versions {
		vs = append(vs, fmt.Sprintf("%s %s on %d", orNone(v.Version), v.Status, v.Hosts))
	}
	s.Text = fmt.Sprintf("fleet of %d hosts (%s): %d files → %d rules: %d hash, %d signer, %d path", f.Hosts, strings.Join(vs, ", "), s.Files, s.Rules, s.Hash, s.Signer, s.Path)
	if nKept > 0 {
		s.Text += fmt.Sprintf(" (%d kept for %s)", nKept, strings.Join(kept, ", "))
	}
	if f.Findings > 0 {
		s.Text += fmt.Sprintf("; %d finding(s)", f.Findings)
	}
	return s
}
