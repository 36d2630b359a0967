//go:build !unix

package hashing

import "os"

// openNoBlock opens p for reading. On systems without O_NONBLOCK the type check is done
// before opening as well, so a named pipe is not opened.
func openNoBlock(p string) (*os.File, error) {
	if fi, err := os.Stat(p); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, &os.PathError{Op: "open", Path: p, Err: ErrNotRegular}
	}
	return os.Open(p)
}
