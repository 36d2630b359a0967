package hashing

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// EntryKind says what a walked entry is.
type EntryKind int

// Entry kinds.
const (
	KindFile    EntryKind = iota // a regular file (to be hashed)
	KindDir                      // a directory (walked into; reported only for bundles)
	KindSymlink                  // a symbolic link that was not followed
	KindOther                    // a socket, FIFO, device: reported with an error, never opened
	KindError                    // something that could not be stat'ed or listed
)

// Entry is one thing found by Walk.
type Entry struct {
	// Name is the slash-separated path inside the walked file system ("." for its root).
	Name string
	Kind EntryKind
	Mode fs.FileMode
	Size int64
	// Target is the link text of a symbolic link (also set on followed links).
	Target string
	// Err is set for KindOther and KindError entries, and for links that could not be
	// followed (dangling, loop).
	Err error
}

// WalkOptions configure Walk.
type WalkOptions struct {
	// FollowSymlinks makes Walk follow symbolic links to files and directories. Loops (a link
	// to one of its own ancestors) are detected and reported as errors, not followed.
	FollowSymlinks bool
}

// maxLinkDepth bounds how many followed directory links may nest, as a last guard against
// loops a file system cannot show (the same limit as Linux's ELOOP for path resolution).
const maxLinkDepth = 40

// ErrSymlinkLoop reports a symbolic link that leads back to one of its own ancestors.
var ErrSymlinkLoop = errors.New("symbolic link loop")

// Walk lists every entry under dir in fsys (dir itself excluded), depth first, in lexical
// order. Directories that cannot be read, and entries that cannot be stat'ed, are returned as
// KindError entries and the walk goes on; only a cancelled context stops it early (with
// ctx.Err()). Symbolic links are listed as KindSymlink unless opts.FollowSymlinks is set.
//
// fsys should implement fs.ReadLinkFS (as DirFS and fstest.MapFS do) for links to be seen.
func Walk(ctx context.Context, fsys fs.FS, dir string, opts WalkOptions) ([]Entry, error) {
	w := walker{ctx: ctx, fsys: fsys, opts: opts}
	rootInfo, err := fs.Stat(fsys, dir)
	if err != nil {
		return nil, err
	}
	if !rootInfo.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	err = w.dir(dir, []frame{{info: rootInfo, real: dir}}, 0)
	return w.out, err
}

type walker struct {
	ctx  context.Context
	fsys fs.FS
	opts WalkOptions
	out  []Entry
}

// frame is one directory on the current path, for loop detection.
type frame struct {
	info fs.FileInfo
	real string // lexical real path inside fsys, for file systems without inode identity
}

func (w *walker) dir(name string, stack []frame, linkDepth int) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	ents, err := fs.ReadDir(w.fsys, name)
	if err != nil {
		w.out = append(w.out, Entry{Name: name, Kind: KindError, Err: err})
		// fs.ReadDir may return the entries it read before failing; walk those.
	}
	for _, de := range ents {
		child := join(name, de.Name())
		info, err := lstat(w.fsys, child, de)
		if err != nil {
			w.out = append(w.out, Entry{Name: child, Kind: KindError, Err: err})
			continue
		}
		mode := info.Mode()
		switch {
		case mode.IsRegular():
			w.out = append(w.out, Entry{Name: child, Kind: KindFile, Mode: mode, Size: info.Size()})
		case mode.IsDir():
			w.out = append(w.out, Entry{Name: child, Kind: KindDir, Mode: mode})
			real := join(stack[len(stack)-1].real, de.Name())
			if err := w.dir(child, append(stack, frame{info: info, real: real}), linkDepth); err != nil {
				return err
			}
		case mode&fs.ModeSymlink != 0:
			if err := w.link(child, mode, stack, linkDepth); err != nil {
				return err
			}
		default:
			w.out = append(w.out, Entry{Name: child, Kind: KindOther, Mode: mode, Size: info.Size(),
				Err: fmt.Errorf("%w (%s): not read", ErrNotRegular, describeMode(mode))})
		}
	}
	return nil
}

func (w *walker) link(name string, mode fs.FileMode, stack []frame, linkDepth int) error {
	target, err := readLink(w.fsys, name)
	if err != nil {
		w.out = append(w.out, Entry{Name: name, Kind: KindError, Mode: mode, Err: err})
		return nil
	}
	if !w.opts.FollowSymlinks {
		w.out = append(w.out, Entry{Name: name, Kind: KindSymlink, Mode: mode, Target: target})
		return nil
	}
	info, err := fs.Stat(w.fsys, name) // follows
	if err != nil {
		w.out = append(w.out, Entry{Name: name, Kind: KindSymlink, Mode: mode, Target: target, Err: fmt.Errorf("cannot follow link: %w", err)})
		return nil
	}
	switch {
	case info.Mode().IsRegular():
		w.out = append(w.out, Entry{Name: name, Kind: KindFile, Mode: info.Mode(), Size: info.Size(), Target: target})
	case info.IsDir():
		parentReal := stack[len(stack)-1].real
		real := target
		if !path.IsAbs(target) && !strings.Contains(target, `\`) {
			real = path.Clean(path.Join(parentReal, target))
		}
		if loopsBack(info, real, stack) {
			w.out = append(w.out, Entry{Name: name, Kind: KindSymlink, Mode: mode, Target: target,
				Err: fmt.Errorf("%w: %s points to one of its own parent directories; not followed", ErrSymlinkLoop, target)})
			return nil
		}
		if linkDepth+1 > maxLinkDepth {
			w.out = append(w.out, Entry{Name: name, Kind: KindSymlink, Mode: mode, Target: target,
				Err: fmt.Errorf("%w: more than %d nested directory links; not followed", ErrSymlinkLoop, maxLinkDepth)})
			return nil
		}
		w.out = append(w.out, Entry{Name: name, Kind: KindDir, Mode: info.Mode(), Target: target})
		return w.dir(name, append(stack, frame{info: info, real: real}), linkDepth+1)
	default:
		w.out = append(w.out, Entry{Name: name, Kind: KindOther, Mode: info.Mode(), Target: target,
			Err: fmt.Errorf("%w (%s): not read", ErrNotRegular, describeMode(info.Mode()))})
	}
	return nil
}

// loopsBack reports whether a directory reached through a link is the current directory or
// one of its ancestors: by file identity where the file system has it (os), else by its
// lexical real path.
func loopsBack(info fs.FileInfo, real string, stack []frame) bool {
	for _, f := range stack {
		if info.Sys() != nil && f.info.Sys() != nil && os.SameFile(info, f.info) {
			return true
		}
		// The target is this ancestor, or an ancestor of it (then the walk would come back here).
		if real == "." || real == f.real || strings.HasPrefix(f.real+"/", real+"/") {
			return true
		}
	}
	return false
}

func join(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

// lstat returns the entry's own info (a link is not followed).
func lstat(fsys fs.FS, name string, de fs.DirEntry) (fs.FileInfo, error) {
	if l, ok := fsys.(interface {
		Lstat(string) (fs.FileInfo, error)
	}); ok {
		return l.Lstat(name)
	}
	return de.Info()
}

func readLink(fsys fs.FS, name string) (string, error) {
	if l, ok := fsys.(fs.ReadLinkFS); ok {
		return l.ReadLink(name)
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: errors.ErrUnsupported}
}

// Parallel calls fn(worker, i) for every i in [0, n) on jobs goroutines (GOMAXPROCS when jobs
// < 1). Each worker index in [0, jobs) is used by one goroutine at a time, so fn can keep
// per-worker state (a Hasher and its buffer) in a slice indexed by worker. Items are handed
// out in order; when ctx is cancelled no new item is started and Parallel returns ctx.Err()
// after the running ones finish.
func Parallel(ctx context.Context, n, jobs int, fn func(worker, i int)) error {
	if jobs < 1 {
		jobs = runtime.GOMAXPROCS(0)
	}
	if jobs > n {
		jobs = n
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func(worker int) {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(worker, i)
			}
		}(w)
	}
	wg.Wait()
	return ctx.Err()
}

// String returns file, dir, symlink, other or error.
func (k EntryKind) String() string {
	switch k {
	case KindFile:
		return "file"
	case KindDir:
		return "dir"
	case KindSymlink:
		return "symlink"
	case KindOther:
		return "other"
	case KindError:
		return "error"
	}
	return fmt.Sprintf("EntryKind(%d)", int(k))
}
