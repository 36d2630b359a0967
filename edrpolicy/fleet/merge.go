package fleet

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// Merger folds rows of many hosts into per-path sets: for each endpoint path, the digests
// seen and the hosts that carry each; the signature states (osquery's authenticode result,
// macOS signed/ad-hoc/Team ID) and their hosts; each host's application version; and, per
// SHA-256, the inspect records of reference hosts. Its memory is bounded by the number of
// distinct (path, digest, host set) and hosts, not by the number of rows: host names are
// interned to small integers and host sets are compact (HostSet).
type Merger struct {
	os      profile.OS
	prof    *profile.Profile
	folders []folder // every executable folder of the profile for os, all versions; nil: any path

	hostIDs   map[string]uint32
	hostNames []string
	hostVers  [][]verCount

	pathIDs map[string]uint32
	paths   []*pathEntry
	// raw caches the entry (or nil: outside the folders) of paths as rows spell them, so
	// that the rows of a path after its first are not normalized again; it stops growing at
	// maxRawCache spellings (every user's own spelling of a per-user path is one).
	raw map[string]*pathEntry

	states    map[string]uint16
	stateList []string

	versions    map[string]uint16
	versionList []string

	refs    map[[32]byte]*refEntry
	bundles map[uint32]*bundleEntry

	rows, ignored int64
}

// verCount counts a host's rows that name a version.
type verCount struct {
	ver uint16
	n   int32
}

type pathEntry struct {
	display string
	key     string
	digests []*digestEntry
	states  []stateEntry
	hints   uint8
	// noDigest is set when a row of the files query (it has a size) carried no SHA-256:
	// osquery did not hash the file (over its --read_max, or unreadable).
	noDigest bool
	// nameHints are the hints of the name alone; verSource says whether the name is one the
	// profile's version sources name.
	nameHints uint8
	verSource bool
}

// maxRawCache bounds Merger.raw.
const maxRawCache = 1 << 18

// Executable hints of a path (osquery reports no file format).
const (
	hintPE    uint8 = 1 << iota // a PE name, version resource, or an authenticode result other than missing
	hintMachO                   // a code signature identifier, a cdhash, or a Mach-O name
	hintExec                    // an executable mode bit (Linux, macOS)
)

type digestEntry struct {
	sum   [32]byte
	sha1  string // first SHA-1 seen with this SHA-256; "-" when hosts disagreed
	size  int64
	hosts HostSet
}

type stateEntry struct {
	id    uint16
	hosts HostSet
}

// refEntry holds the inspect records of one SHA-256: one per distinct verdict (fingerprint),
// with the hosts that reported it. local is an inspection of this run (--root): verified here,
// not reported.
type refEntry struct {
	local    *edrpolicy.FileEvidence
	verdicts []*verdictEntry
}

type verdictEntry struct {
	fp    [32]byte
	ev    *edrpolicy.FileEvidence
	host  string // the host ev came from (the smallest name of those with this verdict)
	hosts HostSet
}

// bundleEntry holds the app-bundle records of one bundle path: broken seals with their hosts.
type bundleEntry struct {
	ok, broken *edrpolicy.FileEvidence
	good, bad  HostSet
	local      *edrpolicy.FileEvidence
}

// NewMerger returns a merger for evidence of the platform os (windows, mac or linux) about
// the application p describes. Rows for paths outside every executable folder the profile
// gives for os (any version, any install kind) are counted as ignored; a profile without such
// folders (generic) keeps every path.
func NewMerger(p *profile.Profile, os profile.OS) *Merger {
	m := &Merger{os: os, prof: p, hostIDs: map[string]uint32{}, pathIDs: map[string]uint32{}, raw: map[string]*pathEntry{},
		states: map[string]uint16{}, versions: map[string]uint16{}, refs: map[[32]byte]*refEntry{}, bundles: map[uint32]*bundleEntry{}}
	t, err := p.PathTable(profile.PathQuery{OS: os, Install: profile.InstallAny})
	if err == nil {
		for _, r := range t.Rows {
			if r.Role != profile.RoleExecutable {
				continue
			}
			if f, ok := folderOf(os, r); ok {
				m.folders = append(m.folders, f)
			}
		}
	}
	return m
}

// Add merges one row. An error says why the row was not used (a malformed digest, a path
// that is not absolute); it never leaves the merger half-updated.
func (m *Merger) Add(r *Row) error {
	if r.Record != nil {
		return m.addRecord(r)
	}
	c := r.Cols
	if c.Path == "" {
		m.ignored++
		return nil
	}
	pe, err := m.rowPath(string(c.Path))
	if err != nil {
		return err
	}
	if pe == nil {
		m.ignored++
		return nil
	}
	sum, sha1, err := digests(c)
	if err != nil {
		return err
	}
	size := int64(-1)
	if c.Size != "" {
		if size, err = strconv.ParseInt(string(c.Size), 10, 64); err != nil || size < 0 {
			return fmt.Errorf("size %q is not a byte count", c.Size)
		}
	}
	state := m.osqueryState(c)
	ver := ""
	if pe.verSource {
		ver = m.rowVersion(c)
	}
	if sum == nil && c.Size != "" {
		pe.noDigest = true
	}
	if sum == nil && state == "" && ver == "" {
		m.ignored++
		return nil
	}
	m.rows++
	host := m.host(r.Host)
	pe.hints |= pe.nameHints | m.hints(c)
	if sum != nil {
		d := pe.digest(*sum, size)
		d.setSHA1(sha1)
		toggle(&d.hosts, host, r.Removed)
	}
	if state != "" {
		toggle(&pe.state(m.stateID(state)).hosts, host, r.Removed)
	}
	if ver != "" {
		m.countVersion(host, ver, r.Removed)
	}
	return nil
}

// rowPath returns the entry of a path as a row spells it, or nil for a path outside the
// profile's folders.
func (m *Merger) rowPath(raw string) (*pathEntry, error) {
	if pe, ok := m.raw[raw]; ok {
		return pe, nil
	}
	display, key, err := endpointPath(m.os, raw)
	if err != nil {
		return nil, err
	}
	var pe *pathEntry
	if m.keep(key) {
		pe = m.path(display, key)
	}
	if len(m.raw) < maxRawCache {
		m.raw[raw] = pe
	}
	return pe, nil
}

func toggle(s *HostSet, host uint32, removed bool) {
	if removed {
		s.Remove(host)
	} else {
		s.Add(host)
	}
}

func (m *Merger) keep(key string) bool {
	if len(m.folders) == 0 {
		return true
	}
	for _, f := range m.folders {
		if f.contains(m.os, key) {
			return true
		}
	}
	return false
}

// digests validates the row's digests: lower-case hex of the right length.
func digests(c *Columns) (*[32]byte, string, error) {
	var sum *[32]byte
	if c.SHA256 != "" {
		b, err := hex.DecodeString(string(c.SHA256))
		if err != nil || len(b) != 32 {
			return nil, "", fmt.Errorf("sha256 %q is not 64 hex digits", preview([]byte(c.SHA256)))
		}
		var s [32]byte
		copy(s[:], b)
		sum = &s
	}
	sha1 := strings.ToLower(string(c.SHA1))
	if sha1 != "" {
		if b, err := hex.DecodeString(sha1); err != nil || len(b) != 20 {
			return nil, "", fmt.Errorf("sha1 %q is not 40 hex digits", preview([]byte(c.SHA1)))
		}
	}
	return sum, sha1, nil
}

// osqueryState is the signature state a row reports: "authenticode:RESULT" on Windows;
// on macOS "signed:TEAM" for a valid signature with a certificate (signed = 1 and an
// authority), "adhoc" for a valid signature without one, "invalid" for a signature that
// does not verify (an identifier, signed = 0), "unsigned" otherwise. These are the host's
// claims: they are compared across hosts to find outliers and never grant trust.
func (m *Merger) osqueryState(c *Columns) string {
	if a := c.authenticode(); a != "" {
		return "authenticode:" + a
	}
	switch {
	case c.Signed == "1" && c.Authority != "":
		return "signed:" + string(c.TeamIdentifier)
	case c.Signed == "1":
		return "adhoc"
	case c.Signed == "0" && c.Identifier != "":
		return "invalid"
	case c.Signed == "0":
		return "unsigned"
	}
	return ""
}

// rowVersion is the application version a row names: the product version of a Windows
// executable the profile's version sources name (osquery's file table has no company name,
// so the sources' company filter cannot apply), or a macOS bundle's short version.
func (m *Merger) rowVersion(c *Columns) string {
	for _, vs := range m.prof.VersionSources {
		if vs.OS != m.os {
			continue
		}
		var v Text
		switch vs.Kind {
		case "pe":
			v = first(c.ProductVersion, c.FileVersion)
		case "plist":
			v = c.BundleShortVersion
		}
		if v == "" {
			continue
		}
		if nv := normVersion(string(v)); nv != "" {
			return nv
		}
	}
	return ""
}

// versionSource reports whether a file name is one the profile's version sources for the
// OS name (rowVersion reads only those rows).
func (m *Merger) versionSource(base string) bool {
	for _, vs := range m.prof.VersionSources {
		if vs.OS == m.os && (vs.Kind == "pe" || vs.Kind == "plist") && matchBase(vs.Files, base, m.os) {
			return true
		}
	}
	return false
}

func matchBase(globs []string, base string, os profile.OS) bool {
	if os != profile.OSLinux {
		base = strings.ToLower(base)
	}
	for _, g := range globs {
		if os != profile.OSLinux {
			g = strings.ToLower(g)
		}
		if ok, _ := path.Match(g, base); ok {
			return true
		}
	}
	return false
}

// normVersion parses a version and drops trailing zero components past the third, so that a
// VS_FIXEDFILEINFO "11.1.0.0" and a string table "11.1.0" are one version.
func normVersion(s string) string {
	v, err := profile.ParseVersion(s)
	if err != nil {
		return ""
	}
	out := v.String()
	for strings.Count(out, ".") > 2 && strings.HasSuffix(out, ".0") {
		out = strings.TrimSuffix(out, ".0")
	}
	return out
}

// nameHints are the executable hints of a path's name.
func (m *Merger) nameHints(display string) uint8 {
	lower := strings.ToLower(display)
	switch {
	case m.os == profile.OSWindows && peName(lower):
		return hintPE
	case m.os == profile.OSMac && (strings.Contains(display, "/Contents/MacOS/") || strings.HasSuffix(lower, ".dylib")):
		return hintMachO
	}
	return 0
}

// hints are the executable hints of a row's columns.
func (m *Merger) hints(c *Columns) uint8 {
	var h uint8
	switch m.os {
	case profile.OSWindows:
		if c.OriginalFilename != "" || c.FileVersion != "" {
			h |= hintPE
		}
		if a := c.authenticode(); a != "" && a != "missing" {
			h |= hintPE
		}
	case profile.OSMac:
		if c.Identifier != "" || c.CDHash != "" {
			h |= hintMachO
		}
	}
	if len(c.Mode) >= 3 && strings.ContainsAny(string(c.Mode[len(c.Mode)-3:]), "1357") {
		h |= hintExec
	}
	return h
}

// peName reports whether a (lower-case) Windows file name has an extension of PE images.
func peName(lower string) bool {
	switch path.Ext(strings.ReplaceAll(lower, `\`, "/")) {
	case ".exe", ".dll", ".sys", ".ocx", ".cpl", ".scr", ".drv", ".efi", ".node", ".pyd", ".com", ".msi":
		return true
	}
	return false
}

func (m *Merger) host(name string) uint32 {
	if id, ok := m.hostIDs[name]; ok {
		return id
	}
	id := uint32(len(m.hostNames))
	m.hostIDs[name] = id
	m.hostNames = append(m.hostNames, name)
	m.hostVers = append(m.hostVers, nil)
	return id
}

func (m *Merger) path(display, key string) *pathEntry {
	if id, ok := m.pathIDs[key]; ok {
		pe := m.paths[id]
		if display < pe.display {
			pe.display = display // the same spelling whatever the row order
		}
		return pe
	}
	m.pathIDs[key] = uint32(len(m.paths))
	base := path.Base(strings.ReplaceAll(display, `\`, "/"))
	pe := &pathEntry{display: display, key: key, nameHints: m.nameHints(display), verSource: m.versionSource(base)}
	m.paths = append(m.paths, pe)
	return pe
}

func (pe *pathEntry) digest(sum [32]byte, size int64) *digestEntry {
	for _, d := range pe.digests {
		if d.sum == sum {
			if d.size < 0 {
				d.size = size
			}
			return d
		}
	}
	d := &digestEntry{sum: sum, size: size}
	pe.digests = append(pe.digests, d)
	return d
}

func (d *digestEntry) setSHA1(s string) {
	switch {
	case s == "" || d.sha1 == "-":
	case d.sha1 == "":
		d.sha1 = s
	case d.sha1 != s:
		d.sha1 = "-" // two SHA-1 for one SHA-256: a forged row; neither is used
	}
}

func (pe *pathEntry) state(id uint16) *stateEntry {
	for i := range pe.states {
		if pe.states[i].id == id {
			return &pe.states[i]
		}
	}
	pe.states = append(pe.states, stateEntry{id: id})
	return &pe.states[len(pe.states)-1]
}

func (m *Merger) stateID(s string) uint16 {
	if id, ok := m.states[s]; ok {
		return id
	}
	id := uint16(len(m.stateList))
	m.states[s] = id
	m.stateList = append(m.stateList, s)
	return id
}

func (m *Merger) countVersion(host uint32, v string, removed bool) {
	id, ok := m.versions[v]
	if !ok {
		id = uint16(len(m.versionList))
		m.versions[v] = id
		m.versionList = append(m.versionList, v)
	}
	vc := m.hostVers[host]
	for i := range vc {
		if vc[i].ver == id {
			if removed {
				vc[i].n = max(vc[i].n-1, 0)
			} else {
				vc[i].n++
			}
			return
		}
	}
	if !removed {
		m.hostVers[host] = append(vc, verCount{ver: id, n: 1})
	}
}

// addRecord merges an inspect record: its digest counts for its host like an osquery row,
// and the record is kept as reference evidence for its SHA-256.
func (m *Merger) addRecord(r *Row) error {
	f := r.Record
	if f.Error != "" || f.Symlink != "" {
		m.ignored++
		return nil
	}
	endpoint, err := m.recordPath(f)
	if err != nil {
		return err
	}
	display, key, err := endpointPath(m.os, endpoint)
	if err != nil {
		return err
	}
	if !m.keep(key) {
		m.ignored++
		return nil
	}
	m.rows++
	host := m.host(r.Host)
	if v := m.recordVersion(f); v != "" {
		m.countVersion(host, v, false)
	}
	pe := m.path(display, key)
	if f.Format == hashing.FormatAppBundle {
		m.addBundle(pe, f, host)
		return nil
	}
	if f.SHA256 == "" {
		return nil
	}
	b, err := hex.DecodeString(f.SHA256)
	if err != nil || len(b) != 32 {
		return fmt.Errorf("sha256 %q is not 64 hex digits", preview([]byte(f.SHA256)))
	}
	var sum [32]byte
	copy(sum[:], b)
	pe.hints |= formatHint(f.Format)
	d := pe.digest(sum, f.Size)
	d.setSHA1(strings.ToLower(f.SHA1))
	d.hosts.Add(host)
	m.addReference(sum, f, r.Host, host)
	return nil
}

func formatHint(f hashing.Format) uint8 {
	switch f {
	case hashing.FormatPE:
		return hintPE
	case hashing.FormatMachO, hashing.FormatMachOUniversal:
		return hintMachO
	case hashing.FormatELF:
		return hintExec
	}
	return 0
}

// recordPath is an inspect record's endpoint path: its root (the folder given to inspect on
// that host) joined with its path. A relative root cannot be placed on the endpoint.
func (m *Merger) recordPath(f *edrpolicy.FileEvidence) (string, error) {
	p := joinEndpoint(m.os, f.Root, f.Path)
	if _, _, err := endpointPath(m.os, p); err != nil {
		return "", fmt.Errorf("record %s: %w: run inspect on each host with the install folder's absolute path", edrpolicy.QuotePath(p), err)
	}
	return p, nil
}

// recordVersion is the version an inspect record names: the product version of an
// executable the profile's pe sources name (company filter applied), or a bundle's short
// version. A source whose signature or seal does not verify is used too: here the version
// only groups a host with the others that run it (a host that claims a version it does not
// run shows as an outlier of that version), while the path table of a version is chosen by
// the many hosts that run it, never by one host's claim.
func (m *Merger) recordVersion(f *edrpolicy.FileEvidence) string {
	base := path.Base(f.Path)
	for _, vs := range m.prof.VersionSources {
		if vs.OS != m.os || !matchBase(vs.Files, base, m.os) {
			continue
		}
		switch {
		case vs.Kind == "pe" && f.PE != nil && f.PE.Version != nil:
			if len(vs.Companies) > 0 && !containsFold(f.PE.Version.CompanyName, vs.Companies) {
				continue
			}
			if v := normVersion(first(Text(f.PE.Version.ProductVersion), Text(f.PE.Version.FileVersion)).str()); v != "" {
				return v
			}
		case vs.Kind == "plist" && f.Format == hashing.FormatAppBundle && f.Bundle != nil:
			if v := normVersion(f.Bundle.ShortVersion); v != "" {
				return v
			}
		}
	}
	return ""
}

func (t Text) str() string { return string(t) }

func containsFold(s string, subs []string) bool {
	ls := strings.ToLower(s)
	for _, sub := range subs {
		if strings.Contains(ls, strings.ToLower(sub)) {
			return true
		}
	}
	return false
}

// addReference keeps f as reference evidence for sum, one record per distinct verdict.
func (m *Merger) addReference(sum [32]byte, f *edrpolicy.FileEvidence, hostName string, host uint32) {
	ref := m.refs[sum]
	if ref == nil {
		ref = &refEntry{}
		m.refs[sum] = ref
	}
	fp := fingerprint(f)
	for _, v := range ref.verdicts {
		if v.fp == fp {
			v.hosts.Add(host)
			if hostName < v.host {
				v.ev, v.host = f, hostName
			}
			return
		}
	}
	v := &verdictEntry{fp: fp, ev: f, host: hostName}
	v.hosts.Add(host)
	ref.verdicts = append(ref.verdicts, v)
}

// AddLocal adds the files of this run's own inspection (generate --root): reference evidence
// verified here (their signatures were checked by this process), placed at the endpoint
// paths installPaths gives their roots. They are not hosts of the fleet: they count for no
// digest, only lend their signatures to the fleet's digests.
func (m *Merger) AddLocal(inv *edrpolicy.Inventory, installPaths map[string][]string) {
	for i := range inv.Files {
		f := &inv.Files[i]
		if f.Error != "" || f.Symlink != "" {
			continue
		}
		for _, base := range installPaths[f.Root] {
			display, key, err := endpointPath(m.os, joinEndpoint(m.os, edrpolicy.ExpandUserPath(m.os, base), f.Path))
			if err != nil || !m.keep(key) {
				continue
			}
			pe := m.path(display, key)
			if f.Format == hashing.FormatAppBundle {
				be := m.bundle(pe)
				be.local = f
				continue
			}
			b, err := hex.DecodeString(f.SHA256)
			if err != nil || len(b) != 32 {
				continue
			}
			var sum [32]byte
			copy(sum[:], b)
			pe.hints |= formatHint(f.Format)
			ref := m.refs[sum]
			if ref == nil {
				ref = &refEntry{}
				m.refs[sum] = ref
			}
			ref.local = f
		}
	}
}

func (m *Merger) bundle(pe *pathEntry) *bundleEntry {
	id := m.pathIDs[pe.key]
	be := m.bundles[id]
	if be == nil {
		be = &bundleEntry{}
		m.bundles[id] = be
	}
	return be
}

func (m *Merger) addBundle(pe *pathEntry, f *edrpolicy.FileEvidence, host uint32) {
	be := m.bundle(pe)
	broken := f.SignatureStatus == signers.StatusInvalid || f.Bundle != nil && (len(f.Bundle.Modified) > 0 || len(f.Bundle.Missing) > 0 || len(f.Bundle.Added) > 0)
	if broken {
		be.bad.Add(host)
		if be.broken == nil {
			be.broken = f
		}
	} else {
		be.good.Add(host)
		if be.ok == nil {
			be.ok = f
		}
	}
}

// fingerprint identifies what Decide would judge in a record's signatures: two records of
// one SHA-256 with different fingerprints are reference evidence that disagrees.
func fingerprint(f *edrpolicy.FileEvidence) [32]byte {
	type sig struct {
		Kind, Status, Chain, Anchor, Alg, Weak, Team, SigningID, Thumb, TS, TSChain string
		Nested                                                                      bool
		EKU, KU                                                                     []string
		NotBefore, NotAfter                                                         string
	}
	v := struct {
		Status string
		Sigs   []sig
	}{Status: string(f.SignatureStatus)}
	for _, s := range f.Signatures {
		x := sig{Kind: string(s.Kind), Status: string(s.Status), Chain: string(s.Chain), Anchor: string(s.Anchor), Alg: s.DigestAlgorithm,
			Weak: s.WeakDigest, Team: s.TeamID, SigningID: s.SigningID, Nested: s.Nested, TSChain: string(s.TimestampChain)}
		if s.Timestamp != nil {
			x.TS = s.Timestamp.UTC().String()
		}
		if s.Signer != nil {
			x.Thumb, x.EKU, x.KU = s.Signer.ThumbprintSHA256, s.Signer.ExtKeyUsage, s.Signer.KeyUsage
			x.NotBefore, x.NotAfter = s.Signer.NotBefore.UTC().String(), s.Signer.NotAfter.UTC().String()
		}
		v.Sigs = append(v.Sigs, x)
	}
	b, _ := json.Marshal(v)
	return sha256.Sum256(b)
}
