//go:build unix

package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes flock(LOCK_EX|LOCK_NB) on the directory itself: a second writer into the same
// directory fails at once instead of interleaving with (or recovering under) the first. The
// lock goes with the process, so a crash releases it.
func lockDir(dir string) (func(), error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		d.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: another edrpolicy is writing to this directory; try again when it is done", dir)
		}
		return func() {}, nil // file systems without flock (some network mounts): go on unlocked
	}
	return func() {
		_ = syscall.Flock(int(d.Fd()), syscall.LOCK_UN)
		d.Close()
	}, nil
}
