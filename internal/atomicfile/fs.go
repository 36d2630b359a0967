package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/edrpolicy/edrpolicy/internal/safeopen"
)

// FS is what a Set does to the file system. OS returns the real one; tests wrap it to make
// any step fail.
type FS interface {
	MkdirTemp(dir, pattern string) (string, error)
	Mkdir(name string, perm os.FileMode) error
	// Create creates a new file for writing; it fails if name exists.
	Create(name string) (WFile, error)
	// ReadFile reads a regular file (the journal, a manifest, a file to back up).
	ReadFile(name string) ([]byte, error)
	Rename(oldpath, newpath string) error
	Link(oldname, newname string) error
	Remove(name string) error
	RemoveAll(name string) error
	Lstat(name string) (fs.FileInfo, error)
	ReadDir(name string) ([]fs.DirEntry, error)
	// SyncDir makes renames in dir durable where the platform can; errors are not fatal.
	SyncDir(dir string) error
	// Lock takes an exclusive advisory lock on dir for one writer at a time (where the
	// platform has one) and returns its release.
	Lock(dir string) (func(), error)
}

// WFile is a file being written.
type WFile interface {
	io.Writer
	Chmod(os.FileMode) error
	Sync() error
	Close() error
}

// OS returns the operating system's file system.
func OS() FS { return osFS{} }

type osFS struct{}

// maxBackup bounds a file read back into memory (a backup copy where hard links fail, the
// journal, a commit file): output files are policies and vendor files.
const maxBackup = safeopen.MaxPolicy

func (osFS) MkdirTemp(dir, pattern string) (string, error) { return os.MkdirTemp(dir, pattern) }
func (osFS) Mkdir(name string, perm os.FileMode) error     { return os.Mkdir(name, perm) }
func (osFS) Create(name string) (WFile, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

// ReadFile reads through safeopen beneath name's own directory: a regular file, at most
// maxBackup bytes, and not a link that leads out of the directory.
func (osFS) ReadFile(name string) ([]byte, error) {
	return safeopen.ReadFile(filepath.Dir(name), filepath.Base(name), maxBackup)
}
func (osFS) Rename(oldpath, newpath string) error       { return os.Rename(oldpath, newpath) }
func (osFS) Link(oldname, newname string) error         { return os.Link(oldname, newname) }
func (osFS) Remove(name string) error                   { return os.Remove(name) }
func (osFS) RemoveAll(name string) error                { return os.RemoveAll(name) }
func (osFS) Lstat(name string) (fs.FileInfo, error)     { return os.Lstat(name) }
func (osFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
func (osFS) Lock(dir string) (func(), error) { return lockDir(dir) }
