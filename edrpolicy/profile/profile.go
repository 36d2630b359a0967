// Package profile holds application profiles: data files that say, per operating system and
// version range, where an application keeps its programs, caches, logs, identity, configuration
// and backup archives, which of those may ever become an EDR path rule, which network ports it
// uses, which signer is expected in which era, what its vendor advises about exceptions, and
// what no source documents (Unknown).
//
// A profile is data, not code. Built-in profiles are embedded JSON files (see BuiltIns); any
// other application is described by a JSON file of the same schema (schema/profile.schema.json,
// JSON Schema draft 2020-12; see Schema) and read with Load. Decoding is strict: an unknown key,
// a value of the wrong type, a missing citation or a malformed version range is an error that
// names the row and key at fault ("paths[3].versions: ...").
//
// Every row cites a source (Profile.Sources) and carries a confidence: vendor-doc (the vendor's
// own documentation says it), 3rd-party (someone else's documentation or scripts say it),
// inferred (derived by the profile's author from a source that does not state it) or observed
// (seen on a real install by the profile's author, e.g. by `edrpolicy profiles init`).
package profile

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/internal/safeopen"
)

// SchemaVersion is the version of the profile file format.
const SchemaVersion = 1

// OS is an operating system as profiles, policy.json ("os", each rule's "platform") and the
// exporters name it: windows, mac or linux. The empty OS means "any" where a profile row may
// leave it out.
type OS string

// Operating systems; the strings are part of the policy.json contract.
const (
	// OSWindows is Microsoft Windows.
	OSWindows OS = "windows"
	// OSMac is macOS.
	OSMac OS = "mac"
	// OSLinux is Linux.
	OSLinux OS = "linux"
)

// KnownOSes are the operating systems, in the order messages list them.
var KnownOSes = []OS{OSWindows, OSMac, OSLinux}

// ErrUnknownOS is the error ParseOS wraps for a name that is not an OS.
var ErrUnknownOS = errors.New("want windows, mac or linux")

// ParseOS parses an operating system's name (windows, mac or linux, exactly as policy.json
// writes it). The error names the value.
func ParseOS(s string) (OS, error) {
	if o := OS(s); o.Valid() {
		return o, nil
	}
	return "", fmt.Errorf("os %q: %w", s, ErrUnknownOS)
}

// Valid reports whether o is one of OSWindows, OSMac and OSLinux.
func (o OS) Valid() bool {
	return o == OSWindows || o == OSMac || o == OSLinux
}

// Role is what a path is to the application, as profile path rows ("role") and policy.json
// rules ("role") name it: executable (program files; any rule over them), cache, logs,
// identity, config or archive (backup archives).
type Role string

// Roles of a path; the strings are part of the policy.json contract.
const (
	RoleExecutable Role = "executable"
	RoleCache      Role = "cache"
	RoleLogs       Role = "logs"
	RoleIdentity   Role = "identity"
	RoleConfig     Role = "config"
	RoleArchive    Role = "archive"
)

// Valid reports whether r is one of the roles RoleExecutable … RoleArchive.
func (r Role) Valid() bool {
	switch r {
	case RoleExecutable, RoleCache, RoleLogs, RoleIdentity, RoleConfig, RoleArchive:
		return true
	}
	return false
}

// Path rule permissions: whether a row may ever become a path rule.
const (
	// RuleNever: never a path rule (application folders: never wholesale; identity, config).
	RuleNever = "never"
	// RuleScanExclusion: a scan exclusion the sources recommend (caches; backup archives only
	// when asked for, see DecideOptions.IncludeArchives in package edrpolicy).
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

// Confidence is how firmly a profile's source supports a row (profile "confidence", carried
// into policy.json rules as "confidence"): vendor-doc, 3rd-party, inferred or observed.
type Confidence string

// Confidence values; the strings are part of the profile format and the policy.json contract.
const (
	// ConfidenceVendorDoc: the vendor's own documentation states it.
	ConfidenceVendorDoc Confidence = "vendor-doc"
	// ConfidenceThirdParty: documentation or scripts by someone other than the vendor state it.
	ConfidenceThirdParty Confidence = "3rd-party"
	// ConfidenceInferred: derived by the profile's author from a source that does not state
	// it (a version bound, a default carried over from older documentation).
	ConfidenceInferred Confidence = "inferred"
	// ConfidenceObserved: seen on a real install by the profile's author.
	ConfidenceObserved Confidence = "observed"
)

// confidences lists the confidence values, strongest claim first.
var confidences = []Confidence{ConfidenceVendorDoc, ConfidenceThirdParty, ConfidenceInferred, ConfidenceObserved}

// Valid reports whether c is one of the confidence values ConfidenceVendorDoc …
// ConfidenceObserved.
func (c Confidence) Valid() bool {
	return slices.Contains(confidences, c)
}

// Port statuses.
const (
	PortRequired    = "required"
	PortOptional    = "optional"
	PortUnsupported = "unsupported"
	// PortUnknown marks a row whose port number no source gives (a table cell lost in
	// extraction): the row says what the port is for, and Port is 0.
	PortUnknown = "unknown"
)

// Profile describes one application.
type Profile struct {
	// Schema is the JSON Schema the file declares ("$schema"), for editors; it is not checked.
	Schema        string `json:"$schema,omitempty"`
	SchemaVersion int    `json:"schema_version"`
	Name          string `json:"name"`
	Title         string `json:"title"`
	Description   string `json:"description,omitempty"`
	// Sources are the documents rows cite, by ID.
	Sources []Source `json:"sources"`
	// Products are the plans or editions (--product); empty means the profile has none.
	Products       []Product `json:"products,omitempty"`
	DefaultProduct string    `json:"default_product,omitempty"`
	// Eras are named version ranges in which folder, bundle, service and signer names hold,
	// per product line.
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
	// Advice is what the sources recommend about exceptions, quoted; generate shows it.
	Advice []Advice `json:"advice,omitempty"`
	// Unknowns are what no source gives. Asking for one is an error naming the gap.
	Unknowns []Unknown `json:"unknowns,omitempty"`

	// Origin is where the profile was loaded from ("builtin:code42" or a file name).
	Origin string `json:"-"`
}

// Cite is the citation every row carries.
type Cite struct {
	// Source is one or more Source IDs, comma-separated (required except on unknowns).
	Source string `json:"source,omitempty"`
	// Confidence is vendor-doc, 3rd-party, inferred or observed (required with Source).
	Confidence Confidence `json:"confidence,omitempty"`
	// Note explains how the row was read from its sources.
	Note string `json:"note,omitempty"`
}

// Source is a document the profile's rows cite.
type Source struct {
	ID         string     `json:"id"`
	Title      string     `json:"title"`
	Ref        string     `json:"ref"` // seed file name, URL or article number
	Confidence Confidence `json:"confidence"`
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

// Era is a named version range of a product line. Two eras may share a name (the same
// naming, e.g. "code42") when their product lists do not overlap.
type Era struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	Versions Range  `json:"versions"`
	// Products are the products the era holds for; empty: every product.
	Products []string `json:"products,omitempty"`
	Cite
}

// PathRow is one location of the application.
type PathRow struct {
	OS       OS    `json:"os"`
	Versions Range `json:"versions,omitempty"`
	// Install is all-users (default), per-user or legacy-os.
	Install string `json:"install,omitempty"`
	// Use is the label of the row in its source ("Main application", "Transient caches").
	Use  string `json:"use"`
	Role Role   `json:"role"`
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
	// Port is the port number; 0 (left out) when Status is unknown.
	Port     int    `json:"port,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	// Component is app or server: whose firewall the row is about.
	Component   string `json:"component"`
	Direction   string `json:"direction"` // inbound, outbound, both, local
	From        string `json:"from"`
	To          string `json:"to"`
	Description string `json:"description"`
	// Versions is the condition on the app's version for the row to apply.
	Versions Range `json:"versions,omitempty"`
	// ServerVersions is the condition on the server's version for the row to apply.
	ServerVersions Range `json:"server_versions,omitempty"`
	// Alternatives are ports of which one, this one or another, must be open ("443 or
	// 4287").
	Alternatives []int `json:"alternatives,omitempty"`
	// Status is required, optional, unsupported or unknown (the port number is not known).
	Status string `json:"status"`
	Cite
}

// ExpectedSigner is the signer an era's builds carry.
type ExpectedSigner struct {
	OS       OS    `json:"os"`
	Versions Range `json:"versions,omitempty"`
	// Era, when set, limits the row to the product lines whose era of that name contains the
	// version.
	Era string `json:"era,omitempty"`
	// TeamID is the Apple Team ID.
	TeamID string `json:"team_id,omitempty"`
	// Organization and CommonName match an Authenticode leaf.
	Organization string `json:"organization,omitempty"`
	CommonName   string `json:"common_name,omitempty"`
	// Thumbprints are leaf certificate thumbprints (SHA-1 or SHA-256 hex) that match exactly.
	Thumbprints []string `json:"thumbprints,omitempty"`
	Cite
}

// VersionSource says where to read the installed version.
type VersionSource struct {
	OS OS `json:"os"`
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
	OS    OS       `json:"os"`
	Files []string `json:"files"`
	Cite
}

// Note is a version-dependent fact.
type Note struct {
	OS       OS     `json:"os,omitempty"`
	Versions Range  `json:"versions,omitempty"`
	Message  string `json:"message"`
	Cite
}

// Fact is a cited fact that is neither a path nor a port.
type Fact struct {
	OS       OS     `json:"os,omitempty"`
	Versions Range  `json:"versions,omitempty"`
	Kind     string `json:"kind"` // service, process, package, launch-agent, ...
	Value    string `json:"value"`
	Cite
}

// Advice topics that generate treats specially; any other topic is shown as it is.
const (
	// AdviceExceptions: whether to create exceptions at all.
	AdviceExceptions = "exceptions"
	// AdviceHash: why hash rules break (joined to generate's hash-upgrade warning).
	AdviceHash = "hash"
	// AdviceSigner: why signer rules break (shown when the policy has signer rules).
	AdviceSigner = "signer"
	// AdviceBackupSelection: what to leave out of the application's backup selection (shown
	// for products with backup).
	AdviceBackupSelection = "backup-selection"
)

// Advice is a recommendation of a source about exceptions, in the source's own words.
type Advice struct {
	// Topic groups advice: exceptions, hash, signer, backup-selection, or a free word.
	Topic string `json:"topic"`
	// Products are the products the source is written for (its audience); empty: every one.
	Products []string `json:"products,omitempty"`
	// Summary says in a few words what the quote advises.
	Summary string `json:"summary"`
	// Quote is the source's sentence, verbatim.
	Quote string `json:"quote"`
	Cite
}

// Unknown is a gap: something no source gives.
type Unknown struct {
	// What is paths (the path table), per-user-paths, signer, or a free word.
	What     string `json:"what"`
	OS       OS     `json:"os,omitempty"`
	Versions Range  `json:"versions,omitempty"`
	Install  string `json:"install,omitempty"`
	// Products are the products the gap concerns; empty: every product.
	Products []string `json:"products,omitempty"`
	Message  string   `json:"message"`
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

// reSeedFile is the name of a seed article file (000_c8ea74c03d1e87fa.txt): a name that says
// nothing to a reader without its title.
var reSeedFile = regexp.MustCompile(`^[0-9]{3}_[0-9a-f]{8,}\.txt$`)

// readableRef is a source's reference as messages show it: a seed file name gets the start of
// its title beside it ("000_c8ea74c03d1e87fa.txt: Best practices for using CrashPlan with EDR
// software"); URLs and article numbers speak for themselves.
func readableRef(s Source) string {
	if !reSeedFile.MatchString(s.Ref) || s.Title == "" {
		return s.Ref
	}
	title := s.Title
	if i := strings.Index(title, " ("); i > 0 {
		title = title[:i]
	}
	return s.Ref + ": " + title
}

// SourceLabels is SourceRefs for people: a seed file name gets the start of its title beside
// it ("000_c8ea74c03d1e87fa.txt: Best practices for using CrashPlan with EDR software").
// policy.json's rule source keeps the bare references (SourceRefs).
func (p *Profile) SourceLabels(ids string) string {
	var out []string
	for _, id := range splitList(ids) {
		ref := id
		for _, s := range p.Sources {
			if s.ID == id {
				ref = readableRef(s)
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
		return nil, fmt.Errorf("profile %s: a product is required: one of %s", p.Name, strings.Join(names, ", "))
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("profile %s has no products: give none", p.Name)
	}
	return nil, fmt.Errorf("profile %s: product %q unknown: use one of %s", p.Name, name, strings.Join(names, ", "))
}

// OSes returns the operating systems the profile has path rows for, sorted.
func (p *Profile) OSes() []OS {
	seen := map[OS]bool{}
	for _, r := range p.Paths {
		seen[r.OS] = true
	}
	var out []OS
	for _, o := range KnownOSes {
		if seen[o] {
			out = append(out, o)
		}
	}
	return out
}
