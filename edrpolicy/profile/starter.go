package profile

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/internal/jsonout"
)

// ObservedFile is what an inspection saw of one file of an install, as Starter needs it.
type ObservedFile struct {
	// Path is relative to the install root, slash-separated.
	Path string
	// Kind is executable (PE, Mach-O, ELF), script (by extension), bundle (a Mac .app
	// directory) or other.
	Kind string
	// Format is the inspection's format name (pe, macho, ...), for notes.
	Format string
	// SHA256 is the file's digest (empty for a bundle).
	SHA256 string
	// SignatureStatus is unsigned, valid, invalid or adhoc.
	SignatureStatus string
	// Signers are the valid signatures of a file whose signature status is valid; a file whose
	// signature does not verify has none (it never gives a signer).
	Signers []ObservedSigner
	// Company and ProductVersion are the PE version resource's (empty otherwise).
	Company, ProductVersion string
	// BundleVersion is a bundle's CFBundleShortVersionString.
	BundleVersion string
}

// ObservedSigner is one valid signature seen on a file.
type ObservedSigner struct {
	Kind             string // authenticode or apple
	TeamID           string
	SigningID        string
	CommonName       string
	Organization     string
	ThumbprintSHA1   string
	ThumbprintSHA256 string
	NotAfter         string // YYYY-MM-DD
	Chain            string // trusted, unknown-root, ...
}

// Kinds of ObservedFile.
const (
	ObservedExecutable = "executable"
	ObservedScript     = "script"
	ObservedBundle     = "bundle"
	ObservedOther      = "other"
)

// StarterInput is an inspected install to start a profile from.
type StarterInput struct {
	// Name is the profile's name (--name).
	Name string
	// OS is windows, mac or linux.
	OS OS
	// Root is the inspected folder, as given (recorded in the inspected source's ref).
	Root string
	// InstallPath is the folder Root is installed as on endpoints; empty when not known (the
	// profile then has no main application row, and says so under unknowns).
	InstallPath string
	// Files are the install's files.
	Files []ObservedFile
}

// SourceInspected is the source ID of the rows a starter profile takes from the inspection.
const SourceInspected = "inspected"

// cacheNames and logNames are folder names that suggest a cache or a log folder.
var (
	cacheNames = map[string]bool{"cache": true, "caches": true, ".cache": true}
	logNames   = map[string]bool{"log": true, "logs": true}
)

// Starter returns a starter profile for an inspected install: its executables (facts), the
// valid signers seen (signers, confidence observed: Team IDs, and leaf thumbprints for
// Authenticode), where the version is read (version_sources), its scripts, cache and log
// folders where their names suggest them (rows with rule never, marked as suggestions to
// review), and TODOs for what only the author can know (unknowns). The result passes Validate
// and the schema, and generate accepts it unchanged; it is deterministic for the same input.
func Starter(in StarterInput) (*Profile, error) {
	if err := (&Profile{SchemaVersion: SchemaVersion, Name: in.Name}).Validate(); err != nil {
		return nil, err // names the field: name "…": …
	}
	if _, err := ParseOS(string(in.OS)); err != nil {
		return nil, err
	}
	files := append([]ObservedFile(nil), in.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	p := &Profile{
		Schema:        SchemaFile,
		SchemaVersion: SchemaVersion,
		Name:          in.Name,
		Title:         "TODO: " + in.Name + " (the application's name and vendor)",
		Description: "Started by `edrpolicy profiles init` from an inspected install. Rows with confidence observed are what the inspection saw; " +
			"rows marked SUGGESTION are guesses from folder names that never become rules until you change them; the TODOs under unknowns " +
			"are what only the author or the vendor's documentation can say. Cite the vendor's documents in sources as you add their facts.",
		Sources: []Source{{ID: SourceInspected, Title: "Files seen by edrpolicy profiles init on one install", Ref: "edrpolicy profiles init --root " + in.Root, Confidence: ConfidenceObserved}},
		Paths:   []PathRow{},
	}
	observed := func(note string) Cite {
		return Cite{Source: SourceInspected, Confidence: ConfidenceObserved, Note: note}
	}
	if in.InstallPath != "" {
		p.Paths = append(p.Paths, PathRow{OS: in.OS, Use: "Main application", Role: RoleExecutable, Path: in.InstallPath, Kind: "folder", Rule: RuleNever,
			Cite: observed("the install folder given; generate maps the inspected root to it")})
	}
	p.Paths = append(p.Paths, suggestedFolders(in, files, &p.Unknowns)...)
	p.Facts = executableFacts(in.OS, files, observed)
	p.Signers = observedSigners(in.OS, files, observed)
	p.VersionSources = versionSources(in.OS, files, observed)
	if scripts := scriptPaths(files); len(scripts) > 0 {
		p.Scripts = []ScriptRow{{OS: in.OS, Files: scripts, Cite: observed("script files seen in the install: generate treats them as executables (hash rules); remove any that are not code")}}
	}
	p.Unknowns = append(p.Unknowns, starterTODOs(in, p)...)
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("starter profile: %w", err)
	}
	return p, nil
}

// joinOS joins an install folder and a slash-separated relative path with the OS's separator.
func joinOS(osName OS, dir, rel string) string {
	if osName == OSWindows {
		return strings.TrimRight(dir, `\/`) + `\` + strings.ReplaceAll(rel, "/", `\`)
	}
	return strings.TrimRight(dir, "/") + "/" + rel
}

// suggestedFolders returns rows (rule never) for folders whose names suggest a cache or logs,
// or, without an install path, TODO unknowns naming them.
func suggestedFolders(in StarterInput, files []ObservedFile, todo *[]Unknown) []PathRow {
	type folder struct {
		role       Role
		files, exe int
	}
	seen := map[string]*folder{}
	for _, f := range files {
		parts := strings.Split(f.Path, "/")
		for i := 0; i < len(parts)-1; i++ {
			name := strings.ToLower(parts[i])
			var role Role
			switch {
			case cacheNames[name]:
				role = RoleCache
			case logNames[name]:
				role = RoleLogs
			default:
				continue
			}
			dir := path.Join(parts[:i+1]...)
			if seen[dir] == nil {
				seen[dir] = &folder{role: role}
			}
			seen[dir].files++
			if f.Kind == ObservedExecutable || f.Kind == ObservedScript {
				seen[dir].exe++
			}
		}
	}
	dirs := make([]string, 0, len(seen))
	for d := range seen {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var out []PathRow
	for _, d := range dirs {
		fo := seen[d]
		what := map[Role]string{RoleCache: "a cache", RoleLogs: "a log folder"}[fo.role]
		note := fmt.Sprintf("SUGGESTION to review: the folder name suggests %s (%d file(s), %d executable or script); rule never until you check the vendor documents it", what, fo.files, fo.exe)
		if fo.role == RoleCache {
			note += "; then scan-exclusion"
		} else {
			note += "; then on-request (generate adds it when logs are asked for)"
		}
		if fo.exe > 0 {
			note += "; it holds code: never exclude it from scans"
		}
		if in.InstallPath == "" {
			*todo = append(*todo, Unknown{What: "suggested-" + string(fo.role), OS: in.OS, Message: fmt.Sprintf("SUGGESTION to review: %s (relative to the install folder) looks like %s; add it as a paths row once the install folder is known", d, what), Flag: "--install-path DIR"})
			continue
		}
		out = append(out, PathRow{OS: in.OS, Use: "SUGGESTION: " + what + " (by its name)", Role: fo.role, Path: joinOS(in.OS, in.InstallPath, d), Kind: "folder", Rule: RuleNever,
			Cite: Cite{Source: SourceInspected, Confidence: ConfidenceObserved, Note: note}})
	}
	return out
}

func executableFacts(osName OS, files []ObservedFile, observed func(string) Cite) []Fact {
	var out []Fact
	for _, f := range files {
		if f.Kind != ObservedExecutable && f.Kind != ObservedScript {
			continue
		}
		note := fmt.Sprintf("%s, signature %s, sha256 %s", f.Format, orNone(f.SignatureStatus), f.SHA256)
		out = append(out, Fact{OS: osName, Kind: f.Kind, Value: f.Path, Cite: observed(note)})
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// observedSigners returns one row per Apple Team ID and one per Authenticode leaf (pinned by
// its SHA-256 thumbprint), from valid signatures only.
func observedSigners(osName OS, files []ObservedFile, observed func(string) Cite) []ExpectedSigner {
	type seen struct {
		s     ObservedSigner
		files []string
		ids   map[string]bool
	}
	by := map[string]*seen{}
	for _, f := range files {
		for _, s := range f.Signers {
			key := "t:" + s.TeamID
			if s.Kind != "apple" || s.TeamID == "" {
				if s.ThumbprintSHA256 == "" {
					continue
				}
				key = "c:" + s.ThumbprintSHA256
			}
			if by[key] == nil {
				by[key] = &seen{s: s, ids: map[string]bool{}}
			}
			e := by[key]
			if len(e.files) == 0 || e.files[len(e.files)-1] != f.Path {
				e.files = append(e.files, f.Path)
			}
			if s.SigningID != "" {
				e.ids[s.SigningID] = true
			}
		}
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []ExpectedSigner
	for _, k := range keys {
		e := by[k]
		note := fmt.Sprintf("seen on %d file(s), e.g. %s; leaf CN=%s, O=%s, SHA-1 %s, not_after %s; chain %s", len(e.files), e.files[0],
			e.s.CommonName, e.s.Organization, e.s.ThumbprintSHA1, e.s.NotAfter, orNone(e.s.Chain))
		if e.s.Chain != "trusted" {
			note += " (for signer rules, generate needs its root trusted or the signer pinned)"
		}
		row := ExpectedSigner{OS: osName}
		if strings.HasPrefix(k, "t:") {
			row.TeamID = e.s.TeamID
			ids := make([]string, 0, len(e.ids))
			for id := range e.ids {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			note += "; signing identifiers " + strings.Join(ids, ", ")
		} else {
			row.Thumbprints = []string{e.s.ThumbprintSHA256}
			note += "; renewing the certificate changes the thumbprint: add the new one then"
		}
		row.Cite = observed(note)
		out = append(out, row)
	}
	return out
}

func versionSources(osName OS, files []ObservedFile, observed func(string) Cite) []VersionSource {
	var out []VersionSource
	companies, bundles := map[string]bool{}, map[string]bool{}
	var exes []string
	for _, f := range files {
		switch {
		case f.Kind == ObservedExecutable && f.Company != "" && f.ProductVersion != "":
			companies[f.Company] = true
			exes = append(exes, path.Base(f.Path))
		case f.Kind == ObservedBundle && f.BundleVersion != "" && !strings.Contains(f.Path, ".app/"):
			bundles[path.Base(f.Path)] = true
		}
	}
	if len(companies) > 0 {
		out = append(out, VersionSource{OS: osName, Kind: "pe", Files: sortedUnique(exes), Companies: sortedKeys(companies),
			Cite: observed("PE version resources seen: generate, reading the version from the install, takes the newest product version of these files")})
	}
	if len(bundles) > 0 {
		out = append(out, VersionSource{OS: osName, Kind: "plist", Files: sortedKeys(bundles),
			Cite: observed("bundles seen: generate, reading the version from the install, reads their CFBundleShortVersionString")})
	}
	return out
}

func scriptPaths(files []ObservedFile) []string {
	var out []string
	for _, f := range files {
		if f.Kind == ObservedScript {
			out = append(out, f.Path)
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedUnique(list []string) []string {
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return sortedKeys(m)
}

// starterTODOs are the facts no inspection can give.
func starterTODOs(in StarterInput, p *Profile) []Unknown {
	var out []Unknown
	todo := func(what, msg, flag string) {
		out = append(out, Unknown{What: what, OS: in.OS, Message: "TODO: " + msg, Flag: flag})
	}
	if in.InstallPath == "" {
		todo("main-app", "the folder the application is installed in on endpoints (rules name endpoint paths; without it generate keeps paths relative to the inspected root)", "--install-path DIR")
	}
	if len(p.Signers) == 0 {
		todo("signer", "no valid signature was seen: hash rules only, unless the vendor signs its files", "--pin-signer THUMBPRINT|TEAMID")
	}
	if len(p.VersionSources) == 0 {
		todo("version-file", "where the installed version can be read (no PE version resource or bundle was seen)", "--app-version X.Y.Z")
	}
	todo("versions", "the releases this profile holds for: add version ranges to rows that change between releases, and eras with their signers", "--profile FILE")
	todo("data-folders", "caches, logs and data the application keeps outside its install folder (ProgramData, /Library, ~/...): from the vendor's documentation", "--profile FILE")
	todo("per-user", "whether the application also installs per user, and where", "--profile FILE")
	todo("ports", "the network ports the application and its server use (vendor documentation)", "--profile FILE")
	todo("advice", "what the vendor advises about EDR exceptions: quote it under advice, citing the document", "--profile FILE")
	return out
}

// JSON encodes the profile as a profile file: indented, HTML characters unescaped, a final
// newline. Parse reads it back to the same profile.
func (p *Profile) JSON() ([]byte, error) {
	return jsonout.Indent(p)
}
