// Package atomicfile writes files so that a reader never sees a partial file. WriteFile writes
// one file: the data goes to a temporary file in the same directory, is synced to disk, and is
// renamed over the target; a crash leaves either the old file or the new one, never a mix.
// Set writes a group of files (an output directory and its manifest) all or nothing.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile writes data to name atomically with permission perm (before umask).
func WriteFile(name string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("%s: create temporary file: %w", name, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("%s: write: %w", name, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("%s: chmod: %w", name, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("%s: sync: %w", name, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("%s: close: %w", name, err)
	}
	if err = os.Rename(tmp, name); err != nil {
		return fmt.Errorf("%s: rename: %w", name, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable where the platform allows syncing a directory; errors are
// ignored because some platforms and file systems refuse it.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
