// Package corpus finds the real signed binaries that scripts/fetch-corpus.sh caches outside
// the repository (${EDRPOLICY_CORPUS:-~/.cache/edrpolicy-corpus}) for tests.
//
// Each kind of file (pe, macho) has a folder with an index.tsv that the fetch script writes:
// one file a line, "name, source, package, version, path" separated by tabs, the path relative
// to the kind's folder. The cache is keyed by package version, so the index always names the
// version that was fetched: tests log it, and take their expectations for files whose content
// moves between versions (Debian's) from independent tools rather than from constants.
package corpus

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Source values of File.Source.
const (
	SourceDebian = "debian" // current version of a Debian package: content moves, expect nothing fixed
	SourceNPM    = "npm"    // an npm package pinned by version: immutable
)

// File is one corpus file.
type File struct {
	Name    string // the name tests use, e.g. shimx64.efi.signed
	Source  string // SourceDebian or SourceNPM
	Package string // the package it came from
	Version string // the package version fetched
	Path    string // absolute path in the cache
}

// String names the file with its package and version, for test logs.
func (f File) String() string {
	return fmt.Sprintf("%s (%s %s %s)", f.Name, f.Source, f.Package, f.Version)
}

// Dir is the cache root.
func Dir() string {
	if d := os.Getenv("EDRPOLICY_CORPUS"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "edrpolicy-corpus")
}

// Index reads the index of one kind (pe, macho). A missing index is fs.ErrNotExist.
func Index(kind string) ([]File, error) {
	dir := filepath.Join(Dir(), kind)
	name := filepath.Join(dir, "index.tsv")
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []File
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 5 || c[0] == "" || c[4] == "" || filepath.IsAbs(c[4]) || strings.Contains(c[4], "..") {
			return nil, fmt.Errorf("%s:%d: want name, source, package, version and a relative path separated by tabs", name, n)
		}
		out = append(out, File{Name: c[0], Source: c[1], Package: c[2], Version: c[3], Path: filepath.Join(dir, filepath.FromSlash(c[4]))})
	}
	return out, sc.Err()
}

// Need returns the files of one kind and source (empty: all), failing the test when the corpus
// or a listed file is missing in CI (CI=true, where .ci/run fetches it first) and skipping it
// elsewhere. Each file's package and version is logged.
func Need(t testing.TB, kind, source string) []File {
	t.Helper()
	files, err := Index(kind)
	if err != nil {
		missing(t, "%s corpus: %v (run scripts/fetch-corpus.sh)", kind, err)
		return nil
	}
	var out []File
	for _, f := range files {
		if source != "" && f.Source != source {
			continue
		}
		if _, err := os.Stat(f.Path); err != nil {
			missing(t, "%s corpus: %s listed in the index but %v (run scripts/fetch-corpus.sh)", kind, f, err)
			return nil
		}
		t.Logf("corpus: %s", f)
		out = append(out, f)
	}
	if len(out) == 0 {
		missing(t, "%s corpus: no %s files in the index", kind, source)
	}
	return out
}

// Lookup returns the file called name, or ok false when the corpus or the name is missing.
func Lookup(kind, name string) (File, bool) {
	files, err := Index(kind)
	if err != nil {
		return File{}, false
	}
	for _, f := range files {
		if f.Name == name {
			if _, err := os.Stat(f.Path); err == nil {
				return f, true
			}
		}
	}
	return File{}, false
}

// NeedFile is Need for one named file.
func NeedFile(t testing.TB, kind, name string) File {
	t.Helper()
	f, ok := Lookup(kind, name)
	if !ok {
		_, err := Index(kind)
		if err == nil {
			err = fs.ErrNotExist
		}
		missing(t, "%s corpus: %s: %v (run scripts/fetch-corpus.sh)", kind, name, err)
		return File{}
	}
	t.Logf("corpus: %s", f)
	return f
}

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
