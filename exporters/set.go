package exporters

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/output"
)

// Problem codes of a Set: what is wrong with an output directory before any simulation.
const (
	ProblemNoManifest   = "no-manifest"     // MANIFEST.sha256 is missing or unreadable
	ProblemManifestLine = "manifest-line"   // a manifest line is not "<sha256>  <name>", or repeats a name
	ProblemEscape       = "manifest-escape" // a manifest line names a path outside the folder
	ProblemMismatch     = "mismatch"        // a file's SHA-256 is not the one the manifest lists
	ProblemMissing      = "missing"         // a file the manifest lists is not there
	ProblemUnlisted     = "unlisted"        // a vendor file (or policy.json) the manifest does not list
	ProblemUnreadable   = "unreadable"      // a file is not a regular file, too large, or cannot be read
	ProblemParse        = "parse"           // a vendor file does not parse as its vendor's format
)

// MaxManifestSize is the largest MANIFEST.sha256 ReadSet reads.
const MaxManifestSize = 4 << 20

// Set is an output directory read back: its manifest verified and every vendor file it holds
// parsed into entries.
type Set struct {
	Dir string
	// Files are the files read (those the manifest lists, the vendor files and policy.json
	// found in the folder), sorted by name.
	Files []SetFile
	// Problems are what is wrong with the folder, in the order found.
	Problems []SetProblem
	// Policy is policy.json's content, nil when the folder has none that could be read.
	Policy []byte
	// HasManifest is true when MANIFEST.sha256 was read.
	HasManifest bool
}

// SetFile is one file of a Set.
type SetFile struct {
	Name string
	// Vendor is the vendor whose exporter writes the file ("" for policy.json and others).
	Vendor string
	// Channel is the vendor's import route the file belongs to (Reader.Channel).
	Channel string
	// Listed says the manifest lists the file; Verified that its SHA-256 matches.
	Listed, Verified bool
	// Removal marks a removal file of an upgrade plan (not parsed).
	Removal bool
	// Entries are the file's entries; ParseError says why there are none.
	Entries    []Entry
	ParseError string
}

// SetProblem is one problem of a Set.
type SetProblem struct {
	Code    string `json:"code"`
	File    string `json:"file"`
	Vendor  string `json:"vendor,omitempty"`
	Message string `json:"message"`
}

// Entries returns the entries of every file of vendor v (all vendors when v is "").
func (s *Set) Entries(v string) []Entry {
	var out []Entry
	for _, f := range s.Files {
		if v == "" || f.Vendor == v {
			out = append(out, f.Entries...)
		}
	}
	return out
}

// Vendors lists the vendors the set holds files of, sorted.
func (s *Set) Vendors() []string {
	seen := map[string]bool{}
	for _, f := range s.Files {
		if f.Vendor != "" && !f.Removal {
			seen[f.Vendor] = true
		}
	}
	return sortedKeys(seen)
}

var reManifestLine = regexp.MustCompile(`^([0-9a-f]{64}) [ *](.+)$`)

// ReadSet reads an output directory written by generate or export: it verifies
// MANIFEST.sha256 (a file whose SHA-256 differs, a listed file that is missing, a vendor file
// or policy.json present but not listed, a manifest line naming a path outside the folder:
// each is a SetProblem) and parses every vendor file found, listed or not, with its vendor's
// Reader. Files are read only if they are regular files (no symbolic link is followed) of at
// most core.MaxParseSize bytes. The error return is for a folder that cannot be listed.
func ReadSet(reg *Registry, dir string) (*Set, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	s := &Set{Dir: dir}
	listed := s.readManifest(dir)
	byName := map[string]*SetFile{}
	add := func(name string) *SetFile {
		if f, ok := byName[name]; ok {
			return f
		}
		f := &SetFile{Name: name, Vendor: reg.Owner(name), Removal: IsRemovalFile(name)}
		if f.Removal {
			f.Vendor = strings.SplitN(name, "-", 2)[0]
		}
		byName[name] = f
		return f
	}
	for name := range listed {
		add(name).Listed = true
	}
	for _, de := range ents {
		n := de.Name()
		if n == output.PolicyFileName || reg.Owner(n) != "" || IsRemovalFile(n) {
			add(n)
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s.readFile(reg, byName[n], listed[n])
		s.Files = append(s.Files, *byName[n])
	}
	return s, nil
}

func (s *Set) problem(code, file, vendor, format string, args ...any) {
	s.Problems = append(s.Problems, SetProblem{Code: code, File: file, Vendor: vendor, Message: fmt.Sprintf(format, args...)})
}

// readManifest returns the names the manifest lists with their SHA-256, recording problems.
func (s *Set) readManifest(dir string) map[string]string {
	out := map[string]string{}
	data, err := readRegular(dir, output.ManifestName, MaxManifestSize)
	if err != nil {
		s.problem(ProblemNoManifest, output.ManifestName, "", "%s: %v: nothing proves the files are the ones generated", output.ManifestName, err)
		return out
	}
	s.HasManifest = true
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		line = strings.TrimSuffix(line, "\r")
		m := reManifestLine.FindStringSubmatch(line)
		if m == nil {
			s.problem(ProblemManifestLine, output.ManifestName, "", "line %d is not \"<sha256>  <file name>\": %s", i+1, core.Quote(line))
			continue
		}
		name := m[2]
		if !plainFileName(name) {
			s.problem(ProblemEscape, name, "", "line %d names %s, which is not a plain file name in the folder (a path outside it, or a separator): not read", i+1, core.Quote(name))
			continue
		}
		if _, dup := out[name]; dup {
			s.problem(ProblemManifestLine, name, "", "line %d lists %s a second time", i+1, name)
			continue
		}
		out[name] = m[1]
	}
	return out
}

func plainFileName(name string) bool {
	return name != "" && name != "." && name != ".." && name != output.ManifestName &&
		!strings.ContainsAny(name, "/\\\x00:") && filepath.Base(name) == name
}

// readFile reads, verifies and parses one file.
func (s *Set) readFile(reg *Registry, f *SetFile, sum string) {
	data, err := readRegular(s.Dir, f.Name, core.MaxParseSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.problem(ProblemMissing, f.Name, f.Vendor, "listed in %s but not in the folder", output.ManifestName)
		return
	case err != nil:
		s.problem(ProblemUnreadable, f.Name, f.Vendor, "%v", err)
		return
	}
	got := sha256.Sum256(data)
	switch {
	case f.Listed && hex.EncodeToString(got[:]) == sum:
		f.Verified = true
	case f.Listed:
		s.problem(ProblemMismatch, f.Name, f.Vendor, "changed since it was generated: its SHA-256 %s is not the %s that %s lists", hex.EncodeToString(got[:])[:12]+"…", sum[:12]+"…", output.ManifestName)
	case s.HasManifest:
		s.problem(ProblemUnlisted, f.Name, f.Vendor, "in the folder but not listed in %s: it was not written by the run that wrote the manifest", output.ManifestName)
	}
	if f.Name == output.PolicyFileName {
		s.Policy = data
		return
	}
	if f.Vendor == "" || f.Removal {
		return
	}
	rd, _ := reg.Reader(f.Vendor)
	f.Channel = rd.Channel(f.Name)
	es, err := rd.Parse(f.Name, data)
	if err != nil {
		f.ParseError = err.Error()
		s.problem(ProblemParse, f.Name, f.Vendor, "does not read as a %s file: %v", f.Vendor, err)
		return
	}
	f.Entries = es
}

// readRegular reads dir/name if it is a regular file (a symbolic link is not followed) of at
// most max bytes.
func readRegular(dir, name string, max int64) ([]byte, error) {
	p := filepath.Join(dir, name)
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s): not read", fi.Mode().Type())
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%d bytes, more than the %d allowed: not read", fi.Size(), max)
	}
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("more than %d bytes: not read", max)
	}
	return data, nil
}
