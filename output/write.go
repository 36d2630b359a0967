package output

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/internal/atomicfile"
)

// ManifestName is the name of the checksum file WriteSet writes.
const ManifestName = "MANIFEST.sha256"

// PolicyFileName is the name of the policy in an output folder.
const PolicyFileName = "policy.json"

// File is one file of an output set.
type File struct {
	// Name is a plain file name: the file is written into the set's folder under it.
	Name string
	// Data is the file's content, written as given.
	Data []byte
}

// WriteSet writes files and MANIFEST.sha256 (sha256sum format, every file, sorted by name)
// into dir, creating it if needed, as one all-or-nothing set (internal/atomicfile.Set):
// every file is staged inside dir, written and fsynced, then renamed into place with the
// manifest last. When any step fails, WriteSet returns an error and dir holds exactly what
// it held before (the previous set, which `sha256sum -c MANIFEST.sha256` still verifies),
// with nothing new left behind. A crash in the middle (kill -9, power loss) is undone by the
// next WriteSet into dir before it writes.
//
// Files that the previous MANIFEST.sha256 in dir listed but this run does not write (say a
// defender-indicators-003.csv from a policy that had more rules) are removed after the new
// manifest is in place, so that a job importing everything in dir never imports a stale file.
// Files the manifest never listed are left alone. Every name is checked before anything is
// written.
func WriteSet(dir string, files []File) error {
	return writeSet(dir, files, nil)
}

// writeSet is WriteSet on a file system the tests can make fail at any step.
func writeSet(dir string, files []File, fsys atomicfile.FS) error {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	set := atomicfile.Set{Dir: dir, FS: fsys}
	written := map[string]bool{}
	var manifest []ManifestEntry
	for _, f := range sorted {
		if !atomicfile.PlainName(f.Name) || f.Name == ManifestName || strings.HasPrefix(f.Name, atomicfile.StagePrefix) {
			return fmt.Errorf("output file name %q is not a plain file name", f.Name)
		}
		if written[f.Name] {
			return fmt.Errorf("output file %q is given twice", f.Name)
		}
		written[f.Name] = true
		sum := sha256.Sum256(f.Data)
		manifest = append(manifest, ManifestEntry{SHA256: hex.EncodeToString(sum[:]), Name: f.Name})
		set.Files = append(set.Files, atomicfile.File{Name: f.Name, Data: f.Data, Perm: 0o644})
	}
	set.Commit = atomicfile.File{Name: ManifestName, Data: FormatManifest(manifest), Perm: 0o644}
	set.Stale = func(fsys atomicfile.FS) []string {
		var stale []string
		for _, name := range manifestNames(fsys, filepath.Join(dir, ManifestName)) {
			if !written[name] {
				stale = append(stale, name)
			}
		}
		return stale
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	return set.Write()
}

// manifestNames returns the file names a sha256sum-format manifest lists (its well-formed
// lines); nothing when it is missing or unreadable.
func manifestNames(fsys atomicfile.FS, file string) []string {
	if fsys == nil {
		fsys = atomicfile.OS()
	}
	data, err := fsys.ReadFile(file)
	if err != nil {
		return nil
	}
	entries, _ := ParseManifest(data)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	return names
}
