package edrpolicy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrOutDir is wrapped by CheckOutputDir's refusals, each an *OptionError for the field Out
// (the CLI turns them into a usage error that --force overrides).
var ErrOutDir = errors.New("refused output folder")

// CheckOutputDir says why writing an output set into dir would destroy something WriteOutputs
// cannot know is its own: a policy.json that no MANIFEST.sha256 in dir lists (a policy this
// tool did not write there, or one copied in by hand), or the folder of the previous policy
// (previous, "" for none), which the run would overwrite with the new one. nil when dir is
// safe: missing, empty, or holding an earlier output set.
func CheckOutputDir(dir, previous string) error {
	if previous != "" && sameDir(dir, filepath.Dir(previous)) {
		return &OptionError{Field: "Out", Value: dir, Reason: fmt.Sprintf("is the folder of the previous policy %s: the new set would replace the baseline it is compared with; write it elsewhere", previous), Err: ErrOutDir}
	}
	pol := filepath.Join(dir, PolicyFileName)
	if _, err := os.Lstat(pol); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	for _, name := range manifestNames(nil, filepath.Join(dir, ManifestName)) {
		if name == PolicyFileName {
			return nil
		}
	}
	return &OptionError{Field: "Out", Value: dir, Reason: fmt.Sprintf("holds a policy.json that no %s there lists: edrpolicy did not write it (or the manifest is gone); write elsewhere", ManifestName), Err: ErrOutDir}
}

// sameDir reports whether a and b name the same folder (after resolving links when they
// exist).
func sameDir(a, b string) bool {
	abs := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		if r, err := filepath.Abs(p); err == nil {
			p = r
		}
		return filepath.Clean(p)
	}
	return abs(a) == abs(b)
}
