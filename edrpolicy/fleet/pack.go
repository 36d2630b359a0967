package fleet

import (
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/internal/jsonout"
)

// PackOptions configure BuildPack.
type PackOptions struct {
	Profile *profile.Profile
	// OS is windows, mac or linux.
	OS profile.OS
	// Versions are the application versions to collect (--app-version, repeatable): the pack
	// queries the executable folders of each version's path table, so that hosts of every
	// version still in the fleet report.
	Versions []string
	// Product is the profile's product (empty: its default).
	Product string
	// AssumePaths picks the table for a version no source covers (code42 8.1).
	AssumePaths string
	// SHA1 adds the hash table's sha1 column (SentinelOne hash exclusions are SHA-1).
	SHA1 bool
	// Interval is the schedule interval in seconds (default DefaultPackInterval).
	Interval int
}

// DefaultPackInterval is a day: the evidence of "a day of osquery results".
const DefaultPackInterval = 86400

// Pack is an osquery query pack (osquery's "packs" configuration format: queries by name, each
// with query, interval, platform, description and snapshot).
type Pack struct {
	Platform string               `json:"platform"`
	Queries  map[string]PackQuery `json:"queries"`
}

// PackQuery is one scheduled query of a pack.
type PackQuery struct {
	Query       string `json:"query"`
	Interval    int    `json:"interval"`
	Description string `json:"description"`
	Platform    string `json:"platform"`
	// Snapshot asks osqueryd for the whole result at every run (the snapshot log form)
	// rather than differences: each day's log then says what every host has.
	Snapshot bool `json:"snapshot"`
}

// osquery's platform names (the "platform" key of packs and queries).
var osqueryPlatform = map[profile.OS]string{profile.OSWindows: "windows", profile.OSMac: "darwin", profile.OSLinux: "linux"}

// BuildPack returns the osquery pack that collects what generate --evidence reads for the
// profile's executable folders of each version: every regular file's path, size and SHA-256
// (file JOIN hash), on Windows the file table's version columns and the authenticode table's
// result and signer names, on macOS the signature table's columns and each bundle's version
// (apps table), and the host name. Folders are matched with osquery's LIKE on file paths,
// which osquery expands as a file-system glob before SQLite filters: '%' is one path level
// (the user folder of per-user rows: C:\Users\%\..., /Users/%/...) and a trailing '%%' is
// every level below (osquery's filesystem.cpp: "**" only recurses at the end of a pattern, to
// its depth limit), so a folder row becomes FOLDER\%% and a file row its exact path.
func BuildPack(opts PackOptions) (*Pack, error) {
	plat, ok := osqueryPlatform[opts.OS]
	if !ok {
		return nil, &edrpolicy.OptionError{Field: "OS", Value: string(opts.OS), Reason: profile.ErrUnknownOS.Error()}
	}
	if len(opts.Versions) == 0 {
		return nil, &edrpolicy.OptionError{Field: "Versions", Reason: "required: the folders depend on the version (give each version the fleet runs)"}
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultPackInterval
	}
	rows, err := packRows(opts)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("profile %s names no executable folder for %s %s: nothing to collect (write a profile for the application: edrpolicy profiles init)", opts.Profile.Name, opts.OS, strings.Join(opts.Versions, ", "))
	}
	p := &Pack{Platform: plat, Queries: map[string]PackQuery{}}
	prefix := "edrpolicy_" + ident(opts.Profile.Name) + "_" + string(opts.OS)
	nv := 0
	for i, r := range rows {
		q, err := fileQuery(opts, r)
		if err != nil {
			return nil, err
		}
		p.Queries[fmt.Sprintf("%s_files_%02d", prefix, i+1)] = PackQuery{Query: q, Interval: opts.Interval, Platform: plat, Snapshot: true,
			Description: packDescription(opts, r, "files: path, size, "+digestNames(opts)+columnNames(opts.OS))}
		if opts.OS == profile.OSMac && strings.HasSuffix(strings.ToLower(r.row.Path), ".app") {
			nv++
			p.Queries[fmt.Sprintf("%s_version_%02d", prefix, nv)] = PackQuery{Query: versionQuery(r), Interval: opts.Interval, Platform: plat, Snapshot: true,
				Description: packDescription(opts, r, "the bundle's version (apps: bundle_short_version), which edrpolicy uses to tell the hosts' versions apart")}
		}
	}
	return p, nil
}

// packRow is a profile row to collect, with the versions whose tables hold it.
type packRow struct {
	row      profile.PathRow
	versions []string
	key      string
}

func packRows(opts PackOptions) ([]*packRow, error) {
	var out []*packRow
	byKey := map[string]*packRow{}
	for _, vs := range opts.Versions {
		v, err := profile.ParseVersion(vs)
		if err != nil {
			return nil, &edrpolicy.OptionError{Field: "Versions", Value: vs, Reason: err.Error(), Err: err}
		}
		q := profile.PathQuery{OS: opts.OS, Version: v, Install: profile.InstallAny, Product: opts.Product}
		if opts.AssumePaths != "" {
			if q.AssumePaths, err = profile.ParseVersion(opts.AssumePaths); err != nil {
				return nil, &edrpolicy.OptionError{Field: "AssumePaths", Value: opts.AssumePaths, Reason: err.Error(), Err: err}
			}
		}
		t, err := opts.Profile.PathTable(q)
		if err != nil {
			return nil, err
		}
		for _, r := range t.Rows {
			if r.Role != profile.RoleExecutable {
				continue
			}
			key := edrpolicy.FoldPath(opts.OS, edrpolicy.ExpandUserPath(opts.OS, r.Path))
			if pr := byKey[key]; pr != nil {
				pr.versions = appendOnce(pr.versions, v.String())
				continue
			}
			pr := &packRow{row: r, versions: []string{v.String()}, key: key}
			byKey[key] = pr
			out = append(out, pr)
		}
	}
	return out, nil
}

// likePath turns a profile path into an osquery LIKE pattern: user placeholders become '%'
// (one path level); characters osquery's glob would read as pattern syntax are refused, since
// osquery has no escape for them. Single quotes are doubled for SQL.
func likePath(os profile.OS, p string) (string, error) {
	p = edrpolicy.ExpandUserPath(os, p) // <user> and ~ become '*': one level
	if strings.ContainsAny(p, "%?[]{}") {
		return "", fmt.Errorf("path %q holds a character osquery's file glob reads as a pattern (%%, ?, [ ] { }), with no escape: it cannot be collected exactly", p)
	}
	p = strings.ReplaceAll(p, "*", "%")
	return strings.ReplaceAll(p, "'", "''"), nil
}

func fileQuery(opts PackOptions, r *packRow) (string, error) {
	pat, err := likePath(opts.OS, r.row.Path)
	if err != nil {
		return "", err
	}
	sep := "/"
	if opts.OS == profile.OSWindows {
		sep = `\`
	}
	where := fmt.Sprintf("f.path LIKE '%s%s%%%%'", strings.TrimRight(pat, `/\`), sep)
	switch {
	case r.row.Kind == "file" && strings.Contains(pat, "%"):
		where = fmt.Sprintf("f.path LIKE '%s'", pat)
	case r.row.Kind == "file":
		where = fmt.Sprintf("f.path = '%s'", pat)
	}
	cols := []string{"f.path", "f.size"}
	switch opts.OS {
	case profile.OSWindows:
		cols = append(cols, "f.file_version", "f.product_version", "f.original_filename")
	default:
		cols = append(cols, "f.mode")
	}
	cols = append(cols, "h.sha256")
	if opts.SHA1 {
		cols = append(cols, "h.sha1")
	}
	join := ""
	switch opts.OS {
	case profile.OSWindows:
		cols = append(cols, "a.result AS authenticode_result", "a.subject_name", "a.issuer_name", "a.serial_number", "a.original_program_name")
		join = " LEFT JOIN authenticode AS a ON a.path = f.path"
	case profile.OSMac:
		cols = append(cols, "s.signed", "s.identifier", "s.cdhash", "s.team_identifier", "s.authority", "s.arch")
		join = " LEFT JOIN signature AS s ON s.path = f.path"
	}
	cols = append(cols, "(SELECT hostname FROM system_info) AS hostname")
	// Symbolic links are left out (their targets are collected where they live); the hash
	// table hashes regular files only, so the join drops folders. On POSIX the file table's
	// type says "regular"; on Windows it says "regular" only for files with the archive or
	// normal attribute ("disk" otherwise, osquery's windows/fileops.cpp), so it is not used.
	filter := " AND f.symlink = 0"
	if opts.OS != profile.OSWindows {
		filter += " AND f.type = 'regular'"
	}
	return fmt.Sprintf("SELECT %s FROM file AS f JOIN hash AS h ON h.path = f.path%s WHERE %s%s;", strings.Join(cols, ", "), join, where, filter), nil
}

func versionQuery(r *packRow) string {
	pat, _ := likePath(profile.OSMac, r.row.Path)
	op := "="
	if strings.Contains(pat, "%") {
		op = "LIKE"
	}
	return fmt.Sprintf("SELECT path, bundle_short_version, bundle_version, bundle_identifier, (SELECT hostname FROM system_info) AS hostname FROM apps WHERE path %s '%s';", op, pat)
}

func digestNames(opts PackOptions) string {
	if opts.SHA1 {
		return "SHA-256, SHA-1"
	}
	return "SHA-256"
}

func columnNames(os profile.OS) string {
	switch os {
	case profile.OSWindows:
		return ", file_version, product_version, original_filename (file), result and signer names (authenticode)"
	case profile.OSMac:
		return ", mode, signed, identifier, cdhash, team_identifier, authority, arch (signature; one row per architecture)"
	}
	return ", mode"
}

func packDescription(opts PackOptions, r *packRow, what string) string {
	p := opts.Profile
	scope := "every level below the folder"
	if r.row.Kind == "file" {
		scope = "the file"
	}
	if strings.HasPrefix(what, "files:") {
		what += "; osquery hashes files up to its --read_max flag (50 MiB by default): raise it for larger files, whose digests are empty otherwise"
	}
	return fmt.Sprintf("edrpolicy %s %s, version(s) %s: %s: %s (%s) — %s; source %s (%s)",
		p.Name, opts.OS, strings.Join(r.versions, ", "), r.row.Use, edrpolicy.ExpandUserPath(opts.OS, r.row.Path), scope, what, p.SourceRefs(r.row.Source), r.row.Confidence)
}

func ident(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// JSON returns the pack as indented JSON with a final newline; the same options give the
// same bytes (query names are numbered in path-table order, keys sorted).
func (p *Pack) JSON() ([]byte, error) {
	return jsonout.Indent(p)
}
