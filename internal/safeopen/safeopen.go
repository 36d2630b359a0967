// Package safeopen is the one way edrpolicy opens a file it reads as configuration or
// evidence: profiles, policies, PEM roots, inspection documents, output manifests, and the
// files of an inspected install that are parsed rather than hashed (Info.plist,
// CodeResources, version files).
//
// Every open here:
//   - never blocks: the file is opened with O_NONBLOCK where the platform has it, so a FIFO
//     with no writer does not hang the run;
//   - takes the type from the opened descriptor (fstat), not from the path, and refuses
//     anything but a regular file: FIFO, socket, device, directory;
//   - inside an install root, resolves the name beneath the root with os.Root, which walks
//     the path one component at a time (openat with O_NOFOLLOW on Unix, handle-relative
//     opens on Windows) and refuses a symbolic link or ".." that leads outside the root,
//     absolute link targets, and more than 8 links (a loop) — without a window between
//     checking and opening;
//   - caps the size twice: on the fstat size before reading, and while reading, so a file
//     that grows (or a /proc-like file whose size says 0) cannot exceed the cap;
//   - reads the file once, through that one descriptor.
//
// Errors name the file and say what was refused; they wrap ErrNotRegular, ErrTooLarge or
// ErrOutsideRoot so that callers can branch on them.
package safeopen

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Size caps of the files edrpolicy reads. The numbers are far above real files and far below
// what would hurt: a refused file costs one fstat.
const (
	// MaxInfoPlist bounds a bundle's Info.plist. Real ones are a few KiB (the sample's is 1.2
	// KiB; large apps with many document types reach tens of KiB); 4 MiB is the cap the
	// bundle verifier (signers/macho) has always used, kept the same so that a file the
	// verifier refuses is not accepted as a version source.
	MaxInfoPlist = 4 << 20
	// MaxCodeResources bounds _CodeSignature/CodeResources (one entry per sealed file: an
	// app of 100,000 files has a CodeResources of about 30 MiB).
	MaxCodeResources = 64 << 20
	// MaxVersionFile bounds a profile's "file" version source (a text file with a version).
	MaxVersionFile = 1 << 20
	// MaxProfile bounds a profile file (--profile FILE); the built-in code42 profile is 40 KiB.
	MaxProfile = 16 << 20
	// MaxPolicy bounds policy.json (export, diff, check, --previous). A policy of 100,000
	// hash rules is about 60 MiB.
	MaxPolicy = 256 << 20
	// MaxPEM bounds a PEM file of trusted roots (--roots); the whole Mozilla bundle is 220 KiB.
	MaxPEM = 16 << 20
	// MaxManifest bounds MANIFEST.sha256 (one 80-byte line per output file).
	MaxManifest = 16 << 20
	// MaxInventory bounds an inspect --format json document read back (--inspection): about
	// 1 KiB per file, so 1 GiB is a million files.
	MaxInventory = 1 << 30
)

// Sentinel errors, wrapped by *Error.
var (
	// ErrNotRegular: the file is a FIFO, socket, device, directory or other non-regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file is larger than the cap, or grew past it while it was read.
	ErrTooLarge = errors.New("file too large")
	// ErrOutsideRoot: the name, or a symbolic link on its way, leads outside the root.
	ErrOutsideRoot = errors.New("leads outside the root")
)

// Error is a refused or failed open or read. Its message is "PATH: REASON".
type Error struct {
	// Path is the file as the user knows it: root joined with the name.
	Path string
	// Reason says what was refused, in words.
	Reason string
	// Err is a sentinel of this package or the underlying OS error.
	Err error
}

func (e *Error) Error() string { return e.Path + ": " + e.Reason }

// Unwrap returns the sentinel or OS error.
func (e *Error) Unwrap() error { return e.Err }

// File is a regular file opened for reading with a size cap: Read fails with ErrTooLarge
// once more than the cap has been read.
type File struct {
	f    *os.File
	path string
	info fs.FileInfo
	max  int64
	n    int64
}

// Open opens name for reading. With a non-empty root, name (slash- or OS-separated) is
// resolved beneath root and must stay inside it; with an empty root, name is a path the user
// gave (a flag's value) and is opened as given, symbolic links included, since the user
// named it. Either way the opened file must be regular and at most maxBytes long.
func Open(root, name string, maxBytes int64) (*File, error) {
	display := displayPath(root, name)
	f, err := openFile(root, name)
	if err != nil {
		return nil, classify(display, root, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &Error{Path: display, Reason: fmt.Sprintf("stat: %v", unwrapPath(err)), Err: err}
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &Error{Path: display, Reason: "refused: " + notRegular(fi.Mode()).Error(), Err: ErrNotRegular}
	}
	if fi.Size() > maxBytes {
		f.Close()
		return nil, tooLarge(display, fmt.Sprintf("is %s", formatSize(fi.Size())), maxBytes)
	}
	return &File{f: f, path: display, info: fi, max: maxBytes}, nil
}

// ReadFile opens name as Open does and reads it whole, in one pass over one descriptor.
func ReadFile(root, name string, maxBytes int64) ([]byte, error) {
	f, err := Open(root, name, maxBytes)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.readAll()
}

// OSPather is implemented by file systems rooted at an OS directory (hashing.DirFS):
// OSPath(".") is the root.
type OSPather interface {
	OSPath(name string) string
}

// ReadFS reads name from fsys with the same guarantees as ReadFile. When fsys is rooted at an
// OS directory (it implements OSPather, as hashing.DirFS does), the file is opened beneath
// that directory with ReadFile, so a link out of the root is refused; any other fs.FS
// (fstest.MapFS, an embedded tree) is read through its Open, with the type and size checks.
func ReadFS(fsys fs.FS, name string, maxBytes int64) ([]byte, error) {
	if p, ok := fsys.(OSPather); ok {
		return ReadFile(p.OSPath("."), name, maxBytes)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, &Error{Path: name, Reason: unwrapPath(err).Error(), Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &Error{Path: name, Reason: fmt.Sprintf("stat: %v", unwrapPath(err)), Err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{Path: name, Reason: "refused: " + notRegular(fi.Mode()).Error(), Err: ErrNotRegular}
	}
	if fi.Size() > maxBytes {
		return nil, tooLarge(name, fmt.Sprintf("is %s", formatSize(fi.Size())), maxBytes)
	}
	return readCapped(f, name, fi.Size(), maxBytes)
}

// Read reads from the file; it fails with ErrTooLarge once the file has yielded more than
// the cap (it grew after it was opened).
func (f *File) Read(p []byte) (int, error) {
	if f.n > f.max {
		return 0, tooLarge(f.path, "grew while it was read", f.max)
	}
	if room := f.max + 1 - f.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := f.f.Read(p)
	f.n += int64(n)
	if f.n > f.max {
		return n, tooLarge(f.path, "grew while it was read", f.max)
	}
	if err != nil && err != io.EOF {
		err = &Error{Path: f.path, Reason: fmt.Sprintf("read: %v", unwrapPath(err)), Err: err}
	}
	return n, err
}

// Stat returns the fstat of the opened descriptor.
func (f *File) Stat() (fs.FileInfo, error) { return f.info, nil }

// Name returns the file's path as given (root joined with the name).
func (f *File) Name() string { return f.path }

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

func (f *File) readAll() ([]byte, error) {
	return readCapped(f, f.path, f.info.Size(), f.max)
}

// readCapped reads r to EOF into a buffer sized from the fstat size (one allocation for a
// file that does not change), failing once more than max bytes arrive.
func readCapped(r io.Reader, name string, size, max int64) ([]byte, error) {
	if size < 0 || size > max {
		size = max
	}
	buf := make([]byte, 0, size+1)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > max {
				return nil, tooLarge(name, "grew while it was read", max)
			}
			buf = append(buf, 0)[:len(buf)]
		}
		room := buf[len(buf):cap(buf)]
		if extra := max + 1 - int64(len(buf)); int64(len(room)) > extra {
			room = room[:extra]
		}
		n, err := r.Read(room)
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return nil, tooLarge(name, "grew while it was read", max)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var se *Error
			if errors.As(err, &se) {
				return nil, err
			}
			return nil, &Error{Path: name, Reason: fmt.Sprintf("read: %v", unwrapPath(err)), Err: err}
		}
	}
}

// openFile opens the file without blocking. A stat first keeps devices from being opened at
// all (opening some has side effects); the caller's fstat of the opened descriptor is what
// decides, so a swap between the two is still caught.
func openFile(root, name string) (*os.File, error) {
	if root == "" {
		if fi, err := os.Stat(name); err == nil && !fi.Mode().IsRegular() {
			return nil, notRegular(fi.Mode())
		}
		return OpenNoBlock(name)
	}
	name = filepath.FromSlash(name)
	if filepath.IsAbs(name) || filepath.VolumeName(name) != "" {
		return nil, ErrOutsideRoot
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", root, err)
	}
	defer r.Close()
	if fi, err := r.Stat(name); err == nil && !fi.Mode().IsRegular() {
		return nil, notRegular(fi.Mode())
	}
	return r.OpenFile(name, openFlags, 0)
}

// modeError carries the mode of a file refused before it was opened.
type modeError struct{ mode fs.FileMode }

func (e modeError) Error() string { return describeMode(e.mode) + ", not a regular file" }
func (e modeError) Unwrap() error { return ErrNotRegular }

func notRegular(m fs.FileMode) error { return modeError{m} }

// classify turns an open error into an *Error whose reason says what was refused.
func classify(display, root string, err error) error {
	var me modeError
	switch {
	case errors.As(err, &me):
		return &Error{Path: display, Reason: "refused: " + me.Error(), Err: ErrNotRegular}
	case errors.Is(err, ErrOutsideRoot), isEscape(err):
		return &Error{Path: display, Reason: fmt.Sprintf("refused: the name or a symbolic link on its way leads outside %s", root), Err: ErrOutsideRoot}
	case errors.Is(err, syscall.ELOOP):
		return &Error{Path: display, Reason: "refused: too many levels of symbolic links (a loop?)", Err: err}
	case errors.Is(err, syscall.ENAMETOOLONG):
		return &Error{Path: display, Reason: "refused: file name too long", Err: err}
	}
	return &Error{Path: display, Reason: unwrapPath(err).Error(), Err: err}
}

// isEscape recognises os.Root's "path escapes from parent" (the error value is not exported;
// TestEscapeMessage pins the text).
func isEscape(err error) bool {
	return strings.Contains(err.Error(), "path escapes from parent")
}

// unwrapPath drops the *PathError wrapper, whose path is relative to a root and would repeat
// what Error.Path says.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func tooLarge(path, what string, max int64) error {
	return &Error{Path: path, Reason: fmt.Sprintf("refused: %s, more than the %s allowed", what, formatSize(max)), Err: ErrTooLarge}
}

func displayPath(root, name string) string {
	if root == "" {
		return name
	}
	return filepath.Join(root, filepath.FromSlash(name))
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB (%d bytes)", float64(n)/(1<<30), n)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
	}
	return fmt.Sprintf("%d bytes", n)
}

func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "an irregular file (" + m.Type().String() + ")"
}
