// Package profile holds application profiles: data files that say, per operating system and
// version range, where an application keeps its programs, caches, logs, identity, configuration
// and backup archives, which of those may ever become an EDR path rule, which network ports it
// uses, which signer is expected in which era, and what no source documents (Unknown).
//
// A profile is data, not code. Built-in profiles are embedded JSON files (see BuiltIns); any
// other application is described by a JSON file of the same schema and read with Load. Decoding
// is strict: an unknown key, a missing citation or a malformed version range is an error that
// names the row at fault.
//
// Every row cites a source (Profile.Sources) and carries a confidence (vendor-doc or 3rd-party).
package profile

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/internal/jsonerr"
	"github.com/edrpolicy/edrpolicy/internal/safeopen"
)

// SchemaVersion is the version of the profile file format.
const SchemaVersion = 1

// Operating systems, as used by --os and policy.json "platform".
const (
	OSWindows = "windows"
	OSMac     = "mac"
	OSLinux   = "linux"
)

// Roles of a path, as used by policy.json "role".
const (
	RoleExecutable = "executable"
	RoleCache      = "cache"
	RoleLogs       = "logs"
	RoleIdentity   = "identity"
	RoleConfig     = "config"
	RoleArchive    = "archive"
)

// Path rule permissions: whether a row may ever become a path rule.
const (
	// RuleNever: never a path rule (application folders: never wholesale; identity, config).
	RuleNever = "never"
	// RuleScanExclusion: a scan exclusion the sources recommend (caches, backup archives).
	RuleScanExclusion = "scan-exclusion"
	// RuleOnRequest: a path rule only when the user asks for that role (logs).
	RuleOnRequest = "on-request"
)

// Install kinds of a path row.
const (
	InstallAllUsers = "all-users"
	InstallPerUser  = "per-user"
	InstallLegacyOS = "legacy-os" // an older operating system release (Windows XP)
)

// Confidence values.
const (
	ConfidenceVendorDoc  = "vendor-doc"
	ConfidenceThirdParty = "3rd-party"
)

// Profile describes one application.
type Profile struct {
	SchemaVersion int    `json:"schema_version"`
	Name          string `json:"name"`
	Title         string `json:"title"`
	Description   string `json:"description,omitempty"`
	// Sources are the documents rows cite, by ID.
	Sources []Source `json:"sources"`
	// Products are the plans or editions (--product); empty means the profile has none.
	Products       []Product `json:"products,omitempty"`
	DefaultProduct string    `json:"default_product,omitempty"`
	// Eras are named version ranges in which folder, bundle, service and signer names hold.
	Eras []Era `json:"eras,omitempty"`
	// Paths are the locations of the application per OS, version and install kind.
	Paths []PathRow `json:"paths"`
	// Ports are the network ports the application and its server use.
	Ports []PortRow `json:"ports,omitempty"`
	// Signers are the expected code signers per OS and era.
	Signers []ExpectedSigner `json:"signers,omitempty"`
	// VersionSources say where --app-version auto finds the installed version.
	VersionSources []VersionSource `json:"version_sources,omitempty"`
	// Scripts are globs (matched against the file name and the path relative to the install
	// root) of script files that count as executables besides PE and Mach-O files.
	Scripts []ScriptRow `json:"scripts,omitempty"`
	// Notes are version-dependent facts shown as warnings (e.g. "cannot connect to the cloud").
	Notes []Note `json:"notes,omitempty"`
	// Facts are other cited facts (service names, package identifiers) shown by `profiles`.
	Facts []Fact `json:"facts,omitempty"`
	// Unknowns are what no source gives. Asking for one is an error naming the gap.
	Unknowns []Unknown `json:"unknowns,omitempty"`

	// Origin is where the profile was loaded from ("builtin:code42" or a file name).
	Origin string `json:"-"`
}

// Cite is the citation every row carries.
type Cite struct {
	// Source is one or more Source IDs, comma-separated.
	Source string `json:"source"`
	// Confidence is vendor-doc or 3rd-party.
	Confidence string `json:"confidence"`
	// Note explains how the row was read from its sources.
	Note string `json:"note,omitempty"`
}

// Source is a document the profile's rows cite.
type Source struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Ref        string `json:"ref"` // seed file name, URL or article number
	Confidence string `json:"confidence"`
}

// Product is a plan or edition of the application.
type Product struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Backup says whether the product backs up files: rows marked BackupOnly (caches and
	// archives) apply only to products with backup.
	Backup bool `json:"backup"`
	Cite
}

// Era is a named version range.
type Era struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	Versions Range  `json:"versions"`
	Cite
}

// PathRow is one location of the application.
type PathRow struct {
	OS       string `json:"os"`
	Versions Range  `json:"versions,omitempty"`
	// Install is all-users (default), per-user or legacy-os.
	Install string `json:"install,omitempty"`
	// Use is the label of the row in its source ("Main application", "Transient caches").
	Use  string `json:"use"`
	Role string `json:"role"`
	// Path is the location. "~" starts a user's home folder (mac, linux); "<user>" is the
	// user-name segment of a Windows profile path.
	Path string `json:"path"`
	// Kind is folder or file.
	Kind string `json:"kind"`
	// Rule says whether the row may ever become a path rule: never, scan-exclusion, on-request.
	Rule string `json:"rule"`
	// BackupOnly rows apply only to products with backup.
	BackupOnly bool `json:"backup_only,omitempty"`
	// Component is app (default) or server.
	Component string `json:"component,omitempty"`
	Cite
}

// PortRow is one network port.
type PortRow struct {
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	// Component is app or server: whose firewall the row is about.
	Component   string `json:"component"`
	Direction   string `json:"direction"` // inbound, outbound, both, local
	From        string `json:"from"`
	To          string `json:"to"`
	Description string `json:"description"`
	// Versions is the condition on the version (of the component) for the row to apply.
	Versions Range `json:"versions,omitempty"`
	// Status is required, optional or unsupported.
	Status string `json:"status"`
	Cite
}

// ExpectedSigner is the signer an era's builds carry.
type ExpectedSigner struct {
	OS       string `json:"os"`
	Versions Range  `json:"versions,omitempty"`
	Era      string `json:"era,omitempty"`
	// TeamID is the Apple Team ID.
	TeamID string `json:"team_id,omitempty"`
	// Organization and CommonName match an Authenticode leaf.
	Organization string `json:"organization,omitempty"`
	CommonName   string `json:"common_name,omitempty"`
	Cite
}

// VersionSource says where to read the installed version.
type VersionSource struct {
	OS string `json:"os"`
	// Kind is pe (PE version resource), plist (a bundle's Contents/Info.plist
	// CFBundleShortVersionString) or file (a text file whose first version-looking word is the
	// version).
	Kind string `json:"kind"`
	// Files are globs matched against the file name and the path relative to the install root:
	// for pe the executables, for plist the bundle directory names, for file the version file.
	Files []string `json:"files,omitempty"`
	// Companies, for pe: the PE CompanyName must contain one of these (case-insensitive).
	Companies []string `json:"companies,omitempty"`
	Cite
}

// ScriptRow names script files that count as executables.
type ScriptRow struct {
	OS    string   `json:"os"`
	Files []string `json:"files"`
	Cite
}

// Note is a version-dependent fact.
type Note struct {
	OS       string `json:"os,omitempty"`
	Versions Range  `json:"versions,omitempty"`
	Message  string `json:"message"`
	Cite
}

// Fact is a cited fact that is neither a path nor a port.
type Fact struct {
	OS       string `json:"os,omitempty"`
	Versions Range  `json:"versions,omitempty"`
	Kind     string `json:"kind"` // service, process, package, launch-agent, ...
	Value    string `json:"value"`
	Cite
}

// Unknown is a gap: something no source gives.
type Unknown struct {
	// What is paths (the path table), per-user-paths, signer, or a free word.
	What     string `json:"what"`
	OS       string `json:"os,omitempty"`
	Versions Range  `json:"versions,omitempty"`
	Install  string `json:"install,omitempty"`
	Message  string `json:"message"`
	// Candidates are versions whose tables the user may assume (with Flag).
	Candidates []string `json:"candidates,omitempty"`
	// Flag is the command-line flag that supplies the missing fact.
	Flag string `json:"flag"`
	Cite
}

// ErrNotFound is returned (wrapped) when no built-in profile has the asked name.
var ErrNotFound = errors.New("no such built-in profile")

//go:embed builtin/*.json
var builtinFS embed.FS

// BuiltIns returns every built-in profile, sorted by name. Each call decodes new values.
func BuiltIns() ([]*Profile, error) {
	names, err := fs.Glob(builtinFS, "builtin/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*Profile
	for _, n := range names {
		data, err := builtinFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		p, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("built-in profile %s: %w", n, err)
		}
		p.Origin = "builtin:" + p.Name
		out = append(out, p)
	}
	return out, nil
}

// BuiltIn returns the built-in profile with this name.
func BuiltIn(name string) (*Profile, error) {
	all, err := BuiltIns()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range all {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return nil, fmt.Errorf("%w %q (built-in profiles: %s; or give a profile file)", ErrNotFound, name, strings.Join(names, ", "))
}

// Resolve returns the built-in profile called nameOrFile, or, when the argument names a file
// (it contains a path separator or ends in .json), loads that file.
func Resolve(nameOrFile string) (*Profile, error) {
	if nameOrFile == "" {
		return nil, fmt.Errorf("no profile given: name a built-in profile or a profile file")
	}
	if strings.ContainsAny(nameOrFile, `/\`) || strings.HasSuffix(nameOrFile, ".json") {
		return Load(nameOrFile)
	}
	return BuiltIn(nameOrFile)
}

// Load reads a profile file through safeopen: a regular file of at most safeopen.MaxProfile
// bytes (a FIFO, device or directory is refused without blocking).
func Load(file string) (*Profile, error) {
	data, err := safeopen.ReadFile("", file, safeopen.MaxProfile)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", file, err)
	}
	p.Origin = file
	return p, nil
}

// Parse decodes and validates a profile. Unknown keys and trailing data are errors.
func Parse(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode: %w", jsonerr.Locate(data, err, dec.InputOffset()))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := jsonerr.Position(data, dec.InputOffset())
		return nil, fmt.Errorf("decode: line %d, column %d: data after the profile object", line, col)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks the profile's consistency: known enumerations, parseable version ranges,
// citations of declared sources.
func (p *Profile) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.SchemaVersion != SchemaVersion {
		add("schema_version is %d; this edrpolicy reads %d", p.SchemaVersion, SchemaVersion)
	}
	if p.Name == "" || strings.ContainsAny(p.Name, " /\\") {
		add("name %q: want a short name without spaces or slashes", p.Name)
	}
	srcs := map[string]bool{}
	for i, s := range p.Sources {
		if s.ID == "" || s.Ref == "" {
			add("sources[%d]: id and ref are required", i)
		}
		if srcs[s.ID] {
			add("sources[%d]: duplicate id %q", i, s.ID)
		}
		srcs[s.ID] = true
		checkConfidence(add, fmt.Sprintf("sources[%d]", i), s.Confidence)
	}
	cite := func(where string, c Cite) {
		if c.Source == "" {
			add("%s: source is required (cite the document the row comes from)", where)
		}
		for _, id := range splitList(c.Source) {
			if !srcs[id] {
				add("%s: source %q is not declared in sources", where, id)
			}
		}
		checkConfidence(add, where, c.Confidence)
	}
	rng := func(where string, r Range) {
		if err := r.Validate(); err != nil {
			add("%s: %v", where, err)
		}
	}
	osOK := func(where, os string, optional bool) {
		if os == "" && optional {
			return
		}
		if os != OSWindows && os != OSMac && os != OSLinux {
			add("%s: os %q: want windows, mac or linux", where, os)
		}
	}
	prods := map[string]bool{}
	for i, pr := range p.Products {
		w := fmt.Sprintf("products[%d] %s", i, pr.Name)
		if pr.Name == "" || prods[pr.Name] {
			add("%s: name empty or duplicate", w)
		}
		prods[pr.Name] = true
		cite(w, pr.Cite)
	}
	if p.DefaultProduct != "" && !prods[p.DefaultProduct] {
		add("default_product %q is not a declared product", p.DefaultProduct)
	}
	eras := map[string]bool{}
	for i, e := range p.Eras {
		w := fmt.Sprintf("eras[%d] %s", i, e.Name)
		eras[e.Name] = true
		rng(w, e.Versions)
		cite(w, e.Cite)
	}
	for i, r := range p.Paths {
		w := fmt.Sprintf("paths[%d] %s", i, r.Path)
		osOK(w, r.OS, false)
		rng(w, r.Versions)
		cite(w, r.Cite)
		switch r.Role {
		case RoleExecutable, RoleCache, RoleLogs, RoleIdentity, RoleConfig, RoleArchive:
		default:
			add("%s: role %q: want executable, cache, logs, identity, config or archive", w, r.Role)
		}
		switch r.Kind {
		case "folder", "file":
		default:
			add("%s: kind %q: want folder or file", w, r.Kind)
		}
		switch r.Rule {
		case RuleNever, RuleScanExclusion, RuleOnRequest:
		default:
			add("%s: rule %q: want never, scan-exclusion or on-request", w, r.Rule)
		}
		if r.Role == RoleExecutable && r.Rule != RuleNever {
			add("%s: an executable folder is never a path rule wholesale; rule must be never", w)
		}
		switch r.Install {
		case "", InstallAllUsers, InstallPerUser, InstallLegacyOS:
		default:
			add("%s: install %q: want all-users, per-user or legacy-os", w, r.Install)
		}
		switch r.Component {
		case "", "app", "server":
		default:
			add("%s: component %q: want app or server", w, r.Component)
		}
		if r.Path == "" || strings.Contains(r.Path, "..") {
			add("%s: path is empty or contains ..", w)
		}
	}
	for i, r := range p.Ports {
		w := fmt.Sprintf("ports[%d] %d", i, r.Port)
		if r.Port <= 0 || r.Port > 65535 {
			add("%s: port out of range", w)
		}
		if r.Component != "app" && r.Component != "server" {
			add("%s: component %q: want app or server", w, r.Component)
		}
		switch r.Status {
		case "required", "optional", "unsupported":
		default:
			add("%s: status %q: want required, optional or unsupported", w, r.Status)
		}
		rng(w, r.Versions)
		cite(w, r.Cite)
	}
	for i, s := range p.Signers {
		w := fmt.Sprintf("signers[%d]", i)
		osOK(w, s.OS, false)
		rng(w, s.Versions)
		cite(w, s.Cite)
		if s.Era != "" && !eras[s.Era] {
			add("%s: era %q is not declared", w, s.Era)
		}
		if s.TeamID == "" && s.Organization == "" && s.CommonName == "" {
			add("%s: give team_id, organization or common_name", w)
		}
	}
	for i, v := range p.VersionSources {
		w := fmt.Sprintf("version_sources[%d]", i)
		osOK(w, v.OS, false)
		cite(w, v.Cite)
		switch v.Kind {
		case "pe", "plist", "file":
		default:
			add("%s: kind %q: want pe, plist or file", w, v.Kind)
		}
		for _, g := range v.Files {
			if _, err := path.Match(g, ""); err != nil {
				add("%s: glob %q: %v", w, g, err)
			}
		}
	}
	for i, s := range p.Scripts {
		w := fmt.Sprintf("scripts[%d]", i)
		osOK(w, s.OS, false)
		cite(w, s.Cite)
		for _, g := range s.Files {
			if _, err := path.Match(g, ""); err != nil {
				add("%s: glob %q: %v", w, g, err)
			}
		}
	}
	for i, n := range p.Notes {
		w := fmt.Sprintf("notes[%d]", i)
		osOK(w, n.OS, true)
		rng(w, n.Versions)
		cite(w, n.Cite)
	}
	for i, f := range p.Facts {
		w := fmt.Sprintf("facts[%d] %s", i, f.Value)
		osOK(w, f.OS, true)
		rng(w, f.Versions)
		cite(w, f.Cite)
	}
	for i, u := range p.Unknowns {
		w := fmt.Sprintf("unknowns[%d] %s", i, u.What)
		osOK(w, u.OS, true)
		rng(w, u.Versions)
		if u.Message == "" || u.Flag == "" {
			add("%s: message and flag are required (say what is missing and how to supply it)", w)
		}
		for _, c := range u.Candidates {
			if _, err := ParseVersion(c); err != nil {
				add("%s: candidate %v", w, err)
			}
		}
		if u.Source != "" {
			cite(w, u.Cite)
		}
	}
	return errors.Join(errs...)
}

func checkConfidence(add func(string, ...any), where, c string) {
	if c != ConfidenceVendorDoc && c != ConfidenceThirdParty {
		add("%s: confidence %q: want vendor-doc or 3rd-party", where, c)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// SourceRefs returns the refs (seed file names, URLs) of the comma-separated source IDs,
// joined with "; ".
func (p *Profile) SourceRefs(ids string) string {
	var out []string
	for _, id := range splitList(ids) {
		ref := id
		for _, s := range p.Sources {
			if s.ID == id {
				ref = s.Ref
				break
			}
		}
		out = append(out, ref)
	}
	return strings.Join(out, "; ")
}

// Product returns the named product; the empty name selects DefaultProduct. A profile without
// products accepts only the empty name.
func (p *Profile) Product(name string) (*Product, error) {
	if name == "" {
		name = p.DefaultProduct
	}
	if name == "" && len(p.Products) == 0 {
		return nil, nil
	}
	var names []string
	for i := range p.Products {
		if p.Products[i].Name == name {
			return &p.Products[i], nil
		}
		names = append(names, p.Products[i].Name)
	}
	if name == "" {
		return nil, fmt.Errorf("profile %s: --product is required: one of %s", p.Name, strings.Join(names, ", "))
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("profile %s has no products; drop --product", p.Name)
	}
	return nil, fmt.Errorf("profile %s: product %q unknown: use one of %s", p.Name, name, strings.Join(names, ", "))
}

// OSes returns the operating systems the profile has path rows for, sorted.
func (p *Profile) OSes() []string {
	seen := map[string]bool{}
	for _, r := range p.Paths {
		seen[r.OS] = true
	}
	var out []string
	for _, o := range []string{OSWindows, OSMac, OSLinux} {
		if seen[o] {
			out = append(out, o)
		}
	}
	return out
}
