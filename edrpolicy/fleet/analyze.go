package fleet

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// Warning codes of fleet evidence (package fleet emits them in the merged policy).
const (
	// WarnOutlier: a digest, signature state, Team ID, bundle seal or version seen on too few
	// hosts, a second build of a file, or reference inspections that disagree. The warning
	// names the hosts. generate exits 1.
	WarnOutlier edrpolicy.WarningCode = "fleet-outlier"
	// WarnVersionUnknown: hosts whose rows name no application version; their rows are not
	// counted. generate exits 1.
	WarnVersionUnknown edrpolicy.WarningCode = "fleet-version-unknown"
	// WarnEvidence: an evidence file, line or row that could not be read. generate exits 1.
	WarnEvidence edrpolicy.WarningCode = "evidence-error"
	// WarnSignature: every host of a version reports an authenticode result that is not
	// trusted (informational: the hosts' own verdict, which grants nothing).
	WarnSignature edrpolicy.WarningCode = "fleet-signature"
	// WarnNoReference: file contents that no reference inspection covers get hash rules
	// (informational).
	WarnNoReference edrpolicy.WarningCode = "fleet-no-reference"
	// WarnIgnored: rows outside the profile's executable folders (informational).
	WarnIgnored edrpolicy.WarningCode = "fleet-ignored"
	// WarnNoDigest: files the hosts report without a SHA-256 (osquery did not hash them: over
	// its --read_max, or unreadable): no rule covers them. generate exits 1.
	WarnNoDigest edrpolicy.WarningCode = "fleet-no-digest"
)

// MaxListedHosts is how many hosts one warning lists; its message gives the full count.
const MaxListedHosts = 1000

// version is one application version of the fleet.
type version struct {
	name   string // normalized; "" for hosts of a fleet that names no version
	v      profile.Version
	hosts  mask
	n      int
	status string
}

// thresholds decide what is an outlier.
type thresholds struct {
	minHosts int
	minShare float64
}

func (t thresholds) ok(n, of int) bool {
	return n >= t.minHosts && of > 0 && float64(n)/float64(of) >= t.minShare
}

func (t thresholds) String() string {
	return fmt.Sprintf("the thresholds of %d hosts and %s", t.minHosts, percent(t.minShare))
}

func percent(f float64) string {
	s := fmt.Sprintf("%.2f", f*100)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// hostVersions gives each host its version: the one most of its rows name (ties: the
// highest). It returns the versions (newest first) and the hosts that name none.
func (m *Merger) hostVersions() ([]*version, []uint32) {
	n := len(m.hostNames)
	byName := map[string]*version{}
	var unknown []uint32
	anyVersion := false
	for h := range n {
		if len(m.hostVers[h]) > 0 {
			anyVersion = true
		}
	}
	for h := range n {
		best := -1
		var bestN int32
		for _, vc := range m.hostVers[h] {
			if vc.n == 0 {
				continue
			}
			if best < 0 || vc.n > bestN || vc.n == bestN && newer(m.versionList[vc.ver], m.versionList[best]) {
				best, bestN = int(vc.ver), vc.n
			}
		}
		name := ""
		switch {
		case best >= 0:
			name = m.versionList[best]
		case anyVersion:
			unknown = append(unknown, uint32(h))
			continue
		}
		v := byName[name]
		if v == nil {
			v = &version{name: name, v: versionOf(name), hosts: newMask(n)}
			byName[name] = v
		}
		v.hosts.set(uint32(h))
		v.n++
	}
	out := make([]*version, 0, len(byName))
	for _, v := range byName {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return newer(out[i].name, out[j].name) })
	return out, unknown
}

func newer(a, b string) bool {
	if c := versionOf(a).Compare(versionOf(b)); c != 0 {
		return c > 0
	}
	return a > b
}

// versionFiles is what one version of the fleet gives Decide.
type versionFiles struct {
	files    []edrpolicy.FileEvidence
	roots    map[string][]string
	warnings []edrpolicy.Warning
	noRef    []string
}

// analyze builds the evidence of one version: for each path of the version's executable
// folders, the digests that enough of the version's hosts carry, and the outliers.
func (m *Merger) analyze(v *version, folders []folder, t thresholds, local bool) *versionFiles {
	out := &versionFiles{roots: map[string][]string{}}
	union := newMask(len(m.hostNames))
	order := make([]*pathEntry, len(m.paths))
	copy(order, m.paths)
	sort.Slice(order, func(i, j int) bool { return order[i].key < order[j].key })
	for _, pe := range order {
		root, ok := m.rootOf(pe, folders)
		if !ok {
			continue
		}
		_, rel := splitRoot(m.os, root, pe.display)
		union.clear()
		for _, d := range pe.digests {
			d.hosts.addTo(union, v.hosts)
		}
		of := union.count()
		if be := m.bundles[m.pathIDs[pe.key]]; be != nil {
			m.bundleEvidence(out, v, pe, be, root, rel, t, local)
		}
		m.stateFindings(out, v, pe)
		if of == 0 {
			continue
		}
		m.digestEvidence(out, v, pe, root, rel, of, t)
	}
	return out
}

// rootOf finds the executable folder a path lies in and the root Decide sees for it.
func (m *Merger) rootOf(pe *pathEntry, folders []folder) (string, bool) {
	if len(folders) == 0 {
		return dirOf(m.os, pe.display), true
	}
	best := -1
	for i, f := range folders {
		if f.contains(m.os, pe.key) && (best < 0 || len(f.key) > len(folders[best].key)) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	f := folders[best]
	if pe.key == f.key && !f.file && f.root == f.display {
		return "", false // the folder itself (an .app folder is its bundle: kept)
	}
	return f.root, true
}

func (m *Merger) digestEvidence(out *versionFiles, v *version, pe *pathEntry, root, rel string, of int, t thresholds) {
	type cand struct {
		d *digestEntry
		n int
	}
	var cands []cand
	for _, d := range pe.digests {
		if n := d.hosts.countIn(v.hosts); n > 0 {
			cands = append(cands, cand{d, n})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].n != cands[j].n {
			return cands[i].n > cands[j].n
		}
		return string(cands[i].d.sum[:]) < string(cands[j].d.sum[:])
	})
	top := cands[0]
	for _, c := range cands {
		sum := hex.EncodeToString(c.d.sum[:])
		if !t.ok(c.n, of) {
			msg := fmt.Sprintf("%s%s: SHA-256 %s on %d of %d hosts (below %s): no rule", pe.display, versionLabel(v), short(sum), c.n, of, t)
			if c.d != top.d {
				msg += fmt.Sprintf("; %d hosts carry %s: a tampered, corrupted or unofficial copy?", top.n, short(hex.EncodeToString(top.d.sum[:])))
			} else {
				msg += "; no other build of this file is common either: a file only a few hosts have"
			}
			out.warnings = append(out.warnings, m.finding(WarnOutlier, msg, pe.display, &c.d.hosts, v.hosts))
			continue
		}
		if c.d != top.d {
			msg := fmt.Sprintf("%s%s: a second build, SHA-256 %s on %d of %d hosts (the most common, %s, on %d): both get rules; confirm both are the vendor's", pe.display, versionLabel(v), short(sum), c.n, of, short(hex.EncodeToString(top.d.sum[:])), top.n)
			out.warnings = append(out.warnings, m.finding(WarnOutlier, msg, pe.display, &c.d.hosts, v.hosts))
		}
		ev := m.evidence(out, pe, c.d, v, root, rel, c.n, of)
		out.files = append(out.files, ev)
		out.roots[root] = []string{root}
	}
}

func versionLabel(v *version) string {
	if v.name == "" {
		return ""
	}
	return " (version " + v.name + ")"
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}

// evidence is the FileEvidence Decide sees for one digest at one path: the reference
// inspection of that SHA-256 when there is one that the others agree with (this run's own
// inspection first: it was verified here), else the fleet's facts without signatures.
func (m *Merger) evidence(out *versionFiles, pe *pathEntry, d *digestEntry, v *version, root, rel string, n, of int) edrpolicy.FileEvidence {
	sum := hex.EncodeToString(d.sum[:])
	note := "no inspect evidence of a reference host has this SHA-256, and osquery reports no certificate thumbprint: no signer rule"
	ref := m.refs[d.sum]
	var ev edrpolicy.FileEvidence
	switch {
	case ref != nil && ref.local != nil:
		ev = *ref.local
		if len(ref.verdicts) > 0 && (len(ref.verdicts) > 1 || ref.verdicts[0].fp != fingerprint(ref.local)) {
			out.warnings = append(out.warnings, m.conflict(pe, v, sum, ref, "; this run's own inspection (its root) decides"))
		}
	case ref != nil && len(ref.verdicts) == 1:
		ev = *ref.verdicts[0].ev
	case ref != nil && len(ref.verdicts) > 1:
		out.warnings = append(out.warnings, m.conflict(pe, v, sum, ref, ": no signer rule"))
		note = "the reference inspections of this SHA-256 disagree about its signature: no signer rule"
		ev = m.synthetic(pe, d)
	default:
		ev = m.synthetic(pe, d)
		if ev.IsExecutable() {
			out.noRef = append(out.noRef, pe.display)
		}
	}
	ev.Root, ev.Path = root, rel
	ev.SHA256 = sum
	if ev.SHA1 == "" && len(d.sha1) == 40 {
		ev.SHA1 = d.sha1
	}
	ev.Fleet = &edrpolicy.FleetSeen{Hosts: n, Of: of}
	if ev.SignatureStatus == "" {
		ev.Fleet.Note = note
	}
	return ev
}

// synthetic is the evidence of a digest no reference inspection covers: the fleet's facts,
// with the format osquery's columns suggest (osquery reports none).
func (m *Merger) synthetic(pe *pathEntry, d *digestEntry) edrpolicy.FileEvidence {
	ev := edrpolicy.FileEvidence{Size: max(d.size, 0), Format: hashing.FormatOther}
	switch {
	case m.os == profile.OSWindows && pe.hints&hintPE != 0:
		ev.Format = hashing.FormatPE
	case m.os == profile.OSMac && pe.hints&(hintMachO|hintExec) != 0:
		ev.Format = hashing.FormatMachO
	case m.os == profile.OSLinux && pe.hints&hintExec != 0:
		ev.Format = hashing.FormatELF
	}
	return ev
}

func (m *Merger) conflict(pe *pathEntry, v *version, sum string, ref *refEntry, tail string) edrpolicy.Warning {
	var parts []string
	var hosts HostSet
	for _, vd := range ref.verdicts {
		parts = append(parts, fmt.Sprintf("%s (%d host(s), e.g. %s)", verdictText(vd.ev), vd.hosts.Len(), vd.host))
		vd.hosts.Each(func(id uint32) { hosts.Add(id) })
	}
	msg := fmt.Sprintf("%s%s: the reference inspections of SHA-256 %s disagree: %s%s", pe.display, versionLabel(v), short(sum), strings.Join(parts, "; "), tail)
	all := newMask(len(m.hostNames))
	for i := range all {
		all[i] = ^uint64(0)
	}
	return m.finding(WarnOutlier, msg, pe.display, &hosts, all)
}

func verdictText(f *edrpolicy.FileEvidence) string {
	s := "signature " + string(f.SignatureStatus)
	if f.SignatureStatus == "" {
		s = "no signature status"
	}
	if len(f.Signatures) > 0 {
		sig := f.Signatures[0]
		if sig.Chain != "" {
			s += ", chain " + string(sig.Chain)
		}
		if sig.Signer != nil {
			s += ", leaf " + short(sig.Signer.ThumbprintSHA256)
		}
	}
	return s
}

// finding is a warning naming the hosts of set that are in within.
func (m *Merger) finding(code edrpolicy.WarningCode, msg, file string, set *HostSet, within mask) edrpolicy.Warning {
	var names []string
	total := 0
	set.eachIn(within, func(id uint32) {
		total++
		names = append(names, m.hostNames[id])
	})
	sort.Strings(names)
	if len(names) > MaxListedHosts {
		names = names[:MaxListedHosts]
		msg += fmt.Sprintf(" (hosts lists the first %d of %d)", MaxListedHosts, total)
	} else {
		msg += " (hosts: " + hostPreview(names) + ")"
	}
	w := edrpolicy.Warning{Code: code, Message: msg, Hosts: names}
	if file != "" {
		w.Files = []string{file}
	}
	return w
}

func hostPreview(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:3], ", ") + fmt.Sprintf(" and %d more", len(names)-3)
}

// versionOf is the Version of a version name of the fleet. Every name is normVersion's output,
// which parses, or "" (the hosts name no version), the zero Version; so is a name that does
// not parse, which normVersion never gives.
func versionOf(name string) profile.Version {
	v, err := profile.ParseVersion(name)
	if err != nil {
		return profile.Version{}
	}
	return v
}
