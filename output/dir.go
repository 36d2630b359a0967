package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// ErrRefused is wrapped by every refusal of CheckDir: a program that lets its user override
// the refusal (the CLI's --force) tests for it with errors.Is.
var ErrRefused = errors.New("refused output folder")

// RefusedError is a refusal of CheckDir: the folder and why writing a set into it would
// destroy something WriteSet cannot know is its own. It wraps ErrRefused.
type RefusedError struct {
	// Dir is the folder refused, as given.
	Dir string
	// Reason says what is in the way and what to do, without naming a flag.
	Reason string
}

// Error is `output folder "Dir": Reason`.
func (e *RefusedError) Error() string {
	return "output folder " + strconv.Quote(e.Dir) + ": " + e.Reason
}

// Unwrap returns ErrRefused.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// CheckDir says why writing an output set into dir would destroy something WriteSet cannot
// know is its own: a policy.json that no MANIFEST.sha256 in dir lists (a policy this package
// did not write there, or one copied in by hand), or the folder of the previous policy
// (previous, "" for none), which the run would overwrite with the new one. The refusal is a
// *RefusedError; nil when dir is safe: missing, empty, or holding an earlier output set.
func CheckDir(dir, previous string) error {
	if previous != "" && sameDir(dir, filepath.Dir(previous)) {
		return &RefusedError{Dir: dir, Reason: fmt.Sprintf("is the folder of the previous policy %s: the new set would replace the baseline it is compared with; write it elsewhere", previous)}
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
	return &RefusedError{Dir: dir, Reason: fmt.Sprintf("holds a policy.json that no %s there lists: edrpolicy did not write it (or the manifest is gone); write elsewhere", ManifestName)}
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
