package hashing

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/edrpolicy/edrpolicy/internal/safeopen"
)

// DirFS returns a file system rooted at the OS directory dir, like os.DirFS, with three
// differences that matter when walking untrusted trees: Open never blocks on a FIFO or device
// (it opens without waiting and refuses anything that is not a regular file or directory),
// Lstat and ReadLink report symbolic links instead of following them, and errors name the OS
// path.
func DirFS(dir string) fs.FS { return osFS{dir: dir} }

type osFS struct{ dir string }

var (
	_ fs.ReadDirFS                       = osFS{}
	_ fs.StatFS                          = osFS{}
	_ fs.ReadLinkFS                      = osFS{}
	_ fs.ReadFileFS                      = osFS{}
	_ fs.SubFS                           = osFS{}
	_ fs.FS                              = osFS{}
	_ interface{ OSPath(string) string } = osFS{}
)

// OSPath returns the OS path of name.
func (f osFS) OSPath(name string) string {
	if name == "." {
		return f.dir
	}
	return filepath.Join(f.dir, filepath.FromSlash(name))
}

func (f osFS) check(op, name string) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return nil
}

// ErrNotRegular is returned when opening something that is neither a regular file nor a
// directory (a socket, FIFO or device): such files are reported, never read.
// It is the same value as safeopen.ErrNotRegular: both opens share one primitive.
var ErrNotRegular = safeopen.ErrNotRegular

func (f osFS) Open(name string) (fs.File, error) {
	if err := f.check("open", name); err != nil {
		return nil, err
	}
	p := f.OSPath(name)
	file, err := safeopen.OpenNoBlock(p)
	if err != nil {
		return nil, err
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		file.Close()
		return nil, &fs.PathError{Op: "open", Path: p, Err: fmt.Errorf("%w (%s)", ErrNotRegular, describeMode(fi.Mode()))}
	}
	return statFile{File: file, info: fi}, nil
}

// statFile is an open file that answers Stat from the fstat Open already made (one system
// call per file saved on trees of many small files). Everything else is the *os.File's.
type statFile struct {
	*os.File
	info fs.FileInfo
}

func (s statFile) Stat() (fs.FileInfo, error) { return s.info, nil }

func (f osFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.check("readdir", name); err != nil {
		return nil, err
	}
	return os.ReadDir(f.OSPath(name))
}

func (f osFS) Stat(name string) (fs.FileInfo, error) {
	if err := f.check("stat", name); err != nil {
		return nil, err
	}
	return os.Stat(f.OSPath(name))
}

func (f osFS) Lstat(name string) (fs.FileInfo, error) {
	if err := f.check("lstat", name); err != nil {
		return nil, err
	}
	return os.Lstat(f.OSPath(name))
}

func (f osFS) ReadLink(name string) (string, error) {
	if err := f.check("readlink", name); err != nil {
		return "", err
	}
	return os.Readlink(f.OSPath(name))
}

// ReadFile reads a small metadata file through safeopen: beneath the root (a link out of it
// is refused), regular files only, at most maxReadFile bytes.
func (f osFS) ReadFile(name string) ([]byte, error) {
	if err := f.check("readfile", name); err != nil {
		return nil, err
	}
	return safeopen.ReadFile(f.dir, name, maxReadFile)
}

func (f osFS) Sub(dir string) (fs.FS, error) {
	if err := f.check("sub", dir); err != nil {
		return nil, err
	}
	return osFS{dir: f.OSPath(dir)}, nil
}

// maxReadFile bounds ReadFile, which is only used for small metadata files (Info.plist,
// CodeResources); anything larger is refused rather than loaded.
const maxReadFile = 64 << 20

func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return m.Type().String()
}
