//go:build unix

package safeopen

import (
	"os"
	"syscall"
)

// openFlags open without waiting for a FIFO's writer (or a device's carrier); the type check
// on the descriptor then refuses them before any read. O_NONBLOCK has no effect on reads of a
// regular file.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// OpenNoBlock opens the OS path p for reading without blocking, following links: the
// primitive under Open, and under hashing.DirFS, which also opens directories. It does not
// check the type: the caller fstats the descriptor and refuses what it does not read.
func OpenNoBlock(p string) (*os.File, error) {
	return os.OpenFile(p, openFlags, 0)
}
