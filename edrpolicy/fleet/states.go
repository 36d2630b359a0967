package fleet

import (
	"fmt"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
)

// stateFindings compares the signature states the hosts of a version report for one path
// (osquery's authenticode result on Windows; signed, ad-hoc, invalid or the Team ID on macOS):
// every host whose state differs from the most common one is named in a fleet-outlier
// warning. These states are the hosts' own claims: they find odd hosts, and never grant
// trust (a signer rule needs reference inspect evidence, judged by Decide).
func (m *Merger) stateFindings(out *versionFiles, v *version, pe *pathEntry) {
	type cand struct {
		s     *stateEntry
		name  string
		n     int
		hosts *HostSet
	}
	var cands []cand
	total := 0
	for i := range pe.states {
		st := &pe.states[i]
		if n := st.hosts.countIn(v.hosts); n > 0 {
			cands = append(cands, cand{st, m.stateList[st.id], n, &st.hosts})
			total += n
		}
	}
	if len(cands) == 0 {
		return
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].n != cands[j].n {
			return cands[i].n > cands[j].n
		}
		return cands[i].name < cands[j].name
	})
	major := cands[0]
	if len(cands) == 1 {
		switch major.name {
		case "authenticode:untrusted", "authenticode:distrusted", "authenticode:invalid", "authenticode:unknown":
			out.warnings = append(out.warnings, edrpolicy.Warning{Code: WarnSignature, Files: []string{pe.display},
				Message: fmt.Sprintf("%s%s: every host (%d) reports %s: the hosts' own WinVerifyTrust verdict (osquery), which grants nothing here; a signer rule still needs reference inspect evidence", pe.display, versionLabel(v), major.n, stateText(major.name))})
		}
		return
	}
	for _, c := range cands[1:] {
		msg := fmt.Sprintf("%s%s: %s on %d of %d hosts, where the fleet's is %s (%d hosts)", pe.display, versionLabel(v), stateText(c.name), c.n, total, stateText(major.name), major.n)
		switch {
		case strings.HasPrefix(c.name, "signed:") && strings.HasPrefix(major.name, "signed:"):
			msg = fmt.Sprintf("%s%s: Team ID %q on %d of %d hosts differs from the fleet's %q (%d hosts): a binary signed by someone else", pe.display, versionLabel(v), strings.TrimPrefix(c.name, "signed:"), c.n, total, strings.TrimPrefix(major.name, "signed:"), major.n)
		case strings.HasPrefix(c.name, "authenticode:"):
			msg += "; osquery's result is the host's own WinVerifyTrust verdict (revocation, a distrusted or missing root, a modified file): it grants nothing here, but the host needs a look"
		case c.name == "invalid":
			msg += "; a signature that does not verify is a modified file or bundle"
		}
		out.warnings = append(out.warnings, m.finding(WarnOutlier, msg, pe.display, c.hosts, v.hosts))
	}
}

// stateText words a signature state for messages.
func stateText(s string) string {
	switch {
	case strings.HasPrefix(s, "authenticode:"):
		return "authenticode result " + strings.TrimPrefix(s, "authenticode:")
	case s == "signed:":
		return "a valid signature with a certificate but no Team ID"
	case strings.HasPrefix(s, "signed:"):
		return "a valid signature of Team ID " + strings.TrimPrefix(s, "signed:")
	case s == "adhoc":
		return "a valid ad-hoc signature (no certificate)"
	case s == "invalid":
		return "a signature that does not verify"
	}
	return s
}

// bundleEvidence adds the app-bundle record of a bundle path to a version's evidence, so
// that Decide judges the files inside by its seal: the seal most hosts report (this run's
// own inspection when it runs this version), and a fleet-outlier warning naming the hosts
// whose seal differs. A broken seal common enough to pass the thresholds is the one used: the
// files inside then get hash rules only.
func (m *Merger) bundleEvidence(out *versionFiles, v *version, pe *pathEntry, be *bundleEntry, root, rel string, t thresholds, local bool) {
	good, bad := be.good.countIn(v.hosts), be.bad.countIn(v.hosts)
	var ev *edrpolicy.FileEvidence
	switch {
	case local && be.local != nil:
		ev = be.local
	case bad > 0 && (good == 0 || t.ok(bad, good+bad)):
		ev = be.broken
	case good > 0:
		ev = be.ok
	}
	if bad > 0 {
		msg := fmt.Sprintf("%s%s: the bundle's seal is broken (modified, missing or added files, or a signature that does not verify) on %d of %d inspected hosts", pe.display, versionLabel(v), bad, good+bad)
		if ev != nil && ev == be.broken {
			msg += ": too many to ignore, so the files inside get hash rules only"
		}
		out.warnings = append(out.warnings, m.finding(WarnOutlier, msg, pe.display, &be.bad, v.hosts))
	}
	if ev == nil {
		return
	}
	c := *ev
	c.Root, c.Path = root, rel
	c.Fleet = &edrpolicy.FleetSeen{Hosts: good + bad, Of: good + bad}
	out.files = append(out.files, c)
	out.roots[root] = []string{root}
}
