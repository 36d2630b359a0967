//go:build !unix

package safeopen

import (
	"io/fs"
	"os"
)

// openFlags: Windows has no O_NONBLOCK, and no FIFO can live in its file system (named pipes
// are under \\.\pipe\, which os.Root refuses, as it refuses device names such as NUL); the
// type check on the opened handle refuses the rest.
const openFlags = os.O_RDONLY

// OpenNoBlock opens the OS path p for reading, following links: the primitive under Open, and
// under hashing.DirFS, which also opens directories. Without O_NONBLOCK, anything that is
// neither a regular file nor a directory is refused before it is opened; the caller still
// fstats the descriptor.
func OpenNoBlock(p string) (*os.File, error) {
	if fi, err := os.Stat(p); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: p, Err: notRegular(fi.Mode())}
	}
	return os.OpenFile(p, openFlags, 0)
}
