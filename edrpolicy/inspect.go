package edrpolicy

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// InspectOptions configure Inspect. The zero value inspects with SHA-256 only, GOMAXPROCS
// workers, no extra trusted roots and the default verifiers.
type InspectOptions struct {
	// Digests asks for SHA-1 and/or MD5 besides SHA-256.
	Digests hashing.Algorithms
	// Jobs is the number of files inspected in parallel; < 1 means GOMAXPROCS.
	Jobs int
	// FollowSymlinks follows symbolic links (with loop detection) instead of reporting them.
	FollowSymlinks bool
	// Verify configures signature verification (extra roots, verification time).
	Verify signers.Options
	// Verifiers check code signatures; nil means DefaultVerifiers(). An empty non-nil slice
	// turns verification off (digests only).
	Verifiers []signers.Verifier
	// Progress, when set, is called after each file (from one goroutine at a time).
	Progress func(Progress)
}

// Progress reports how far an inspection has come.
type Progress struct {
	Files, TotalFiles int
	Bytes, TotalBytes int64
}

// Inspect inspects OS paths: a file is inspected, a directory is walked recursively. Paths of
// files found by walking are relative to the directory argument (slash-separated); a file
// argument keeps its path as given. A path that cannot be read becomes a FileEvidence with
// Error set, and the rest goes on; the error return is only for a cancelled context.
func Inspect(ctx context.Context, paths []string, opts InspectOptions) (*Inventory, error) {
	var jobs []job
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			jobs = append(jobs, job{path: p, err: err})
			continue
		}
		if !fi.IsDir() {
			dir, base := filepath.Split(p)
			if dir == "" {
				dir = "."
			}
			fsys := hashing.DirFS(dir)
			jobs = append(jobs, job{fsys: fsys, name: base, path: p, size: fi.Size(), kind: kindOf(fi.Mode())})
			continue
		}
		more, err := walkJobs(ctx, hashing.DirFS(p), p, opts)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, more...)
	}
	return run(ctx, jobs, opts)
}

// InspectFS inspects the tree under dir in fsys (for example an fstest.MapFS, or an
// embedded sample install). Paths are relative to dir.
func InspectFS(ctx context.Context, fsys fs.FS, dir string, opts InspectOptions) (*Inventory, error) {
	fi, err := fs.Stat(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	if !fi.IsDir() {
		return run(ctx, []job{{fsys: fsys, name: dir, path: dir, size: fi.Size(), kind: kindOf(fi.Mode())}}, opts)
	}
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	jobs, err := walkJobs(ctx, sub, "", opts)
	if err != nil {
		return nil, err
	}
	return run(ctx, jobs, opts)
}

func kindOf(m fs.FileMode) hashing.EntryKind {
	switch {
	case m.IsRegular():
		return hashing.KindFile
	case m.IsDir():
		return hashing.KindDir
	case m&fs.ModeSymlink != 0:
		return hashing.KindSymlink
	}
	return hashing.KindOther
}

// job is one record to produce.
type job struct {
	fsys   fs.FS
	name   string // inside fsys
	path   string // reported
	root   string // reported root ("" for file arguments)
	size   int64
	mode   fs.FileMode
	kind   hashing.EntryKind
	target string
	bundle signers.BundleVerifier
	err    error
}

func walkJobs(ctx context.Context, fsys fs.FS, root string, opts InspectOptions) ([]job, error) {
	entries, err := hashing.Walk(ctx, fsys, ".", hashing.WalkOptions{FollowSymlinks: opts.FollowSymlinks})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return []job{{path: root, root: root, err: err}}, nil
	}
	bundlers := bundleVerifiers(opts)
	jobs := make([]job, 0, len(entries))
	for _, e := range entries {
		j := job{fsys: fsys, name: e.Name, path: e.Name, root: root, size: e.Size, mode: e.Mode, kind: e.Kind, target: e.Target, err: e.Err}
		if e.Kind == hashing.KindDir {
			if e.Err != nil {
				jobs = append(jobs, j)
				continue
			}
			for _, b := range bundlers {
				if b.IsBundle(fsys, e.Name) {
					j.bundle = b
					jobs = append(jobs, j)
					break
				}
			}
			continue
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

func verifiers(opts InspectOptions) []signers.Verifier {
	if opts.Verifiers == nil {
		return DefaultVerifiers()
	}
	return opts.Verifiers
}

func bundleVerifiers(opts InspectOptions) []signers.BundleVerifier {
	var out []signers.BundleVerifier
	for _, v := range verifiers(opts) {
		if b, ok := v.(signers.BundleVerifier); ok {
			out = append(out, b)
		}
	}
	return out
}

func run(ctx context.Context, jobs []job, opts InspectOptions) (*Inventory, error) {
	vs := verifiers(opts)
	files := make([]FileEvidence, len(jobs))
	var totalBytes int64
	for _, j := range jobs {
		if j.kind == hashing.KindFile {
			totalBytes += j.size
		}
	}
	nJobs := opts.Jobs
	if nJobs < 1 {
		nJobs = defaultJobs()
	}
	hashers := make([]*hashing.Hasher, nJobs)
	var done atomic.Int64
	var doneBytes atomic.Int64
	var progMu sync.Mutex
	err := hashing.Parallel(ctx, len(jobs), nJobs, func(worker, i int) {
		if hashers[worker] == nil {
			hashers[worker] = hashing.NewHasher(opts.Digests)
		}
		files[i] = inspectOne(ctx, hashers[worker], jobs[i], vs, opts.Verify)
		n := done.Add(1)
		b := doneBytes.Add(files[i].Size)
		if opts.Progress != nil {
			progMu.Lock()
			opts.Progress(Progress{Files: int(n), TotalFiles: len(jobs), Bytes: b, TotalBytes: totalBytes})
			progMu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(files, func(a, b int) bool {
		if files[a].Path != files[b].Path {
			return files[a].Path < files[b].Path
		}
		return files[a].Root < files[b].Root
	})
	return &Inventory{SchemaVersion: SchemaVersion, Files: files}, nil
}

// inspectOne returns the evidence for one job (links, bundles and others here, regular files
// in inspectFile). It never panics outward: a verifier bug on one hostile file must not end
// the scan of thousands of others, so a panic becomes an error record naming the file.
func inspectOne(ctx context.Context, h *hashing.Hasher, j job, vs []signers.Verifier, vopts signers.Options) (ev FileEvidence) {
	ev = FileEvidence{Path: j.path, Root: j.root, Size: j.size, Symlink: j.target}
	if j.mode != 0 || j.kind == hashing.KindFile {
		ev.Mode = fmt.Sprintf("%04o", j.mode.Perm())
	}
	defer func() {
		if r := recover(); r != nil {
			ev.Error = fmt.Sprintf("internal error while inspecting this file (please report it): %v", r)
		}
	}()
	if j.err != nil {
		ev.Error = j.err.Error()
		return ev
	}
	switch j.kind {
	case hashing.KindSymlink:
		return ev
	case hashing.KindDir:
		if j.bundle != nil {
			inspectBundle(ctx, &ev, j, vopts)
		}
		return ev
	case hashing.KindOther:
		ev.Error = fmt.Sprintf("%v: not read", hashing.ErrNotRegular)
		return ev
	}
	inspectFile(ctx, &ev, h, j, vs, vopts)
	return ev
}

// inspectFile reads the regular file of j into ev: size, mode, digests and format, and what
// the first verifier that accepts the format finds of its signature. An error is recorded
// in ev.Error.
func inspectFile(ctx context.Context, ev *FileEvidence, h *hashing.Hasher, j job, vs []signers.Verifier, vopts signers.Options) {
	f, err := j.fsys.Open(j.name)
	if err != nil {
		ev.Error = err.Error()
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		ev.Error = err.Error()
		return
	}
	if fi.IsDir() {
		ev.Error = "is a directory, expected a file"
		return
	}
	ev.Size = fi.Size()
	ev.Mode = fmt.Sprintf("%04o", fi.Mode().Perm())
	ra, _ := f.(io.ReaderAt)
	taps := map[signers.Verifier]signers.Tap{}
	sum, err := h.SumFile(f, ra, fi.Size(), streamTaps(vs, taps))
	if err != nil {
		ev.Error = fmt.Sprintf("read: %v", err)
		return
	}
	ev.Digests = sum.Digests
	ev.Format = sum.Format
	if !verifySignature(ctx, ev, j, vs, vopts, ra, sum, taps) {
		return
	}
	if ev.SignatureStatus == "" && ev.IsExecutable() {
		// No verifier for this format (ELF has no embedded signature scheme): nothing vouches
		// for the file but its digest.
		ev.SignatureStatus = signers.StatusUnsigned
	}
}

// streamTaps returns the hashing callback that gives each streaming verifier accepting the
// format its tap on the bytes being hashed, recording the taps in taps.
func streamTaps(vs []signers.Verifier, taps map[signers.Verifier]signers.Tap) hashing.TapFunc {
	return func(format hashing.Format, head []byte, size int64) []io.Writer {
		var ws []io.Writer
		for _, v := range vs {
			sv, ok := v.(signers.StreamVerifier)
			if !ok || !v.Accepts(format) {
				continue
			}
			if t := sv.StreamTap(format, head, size); t != nil {
				taps[v] = t
				ws = append(ws, t)
			}
		}
		return ws
	}
}

// verifySignature applies the first verifier in vs that accepts the file's format to ev. It
// reports false when the file ends there: no random access for the verifier, or a verifier
// error without a result (the file is then invalid).
func verifySignature(ctx context.Context, ev *FileEvidence, j job, vs []signers.Verifier, vopts signers.Options, ra io.ReaderAt, sum hashing.FileSum, taps map[signers.Verifier]signers.Tap) bool {
	for _, v := range vs {
		if !v.Accepts(sum.Format) {
			continue
		}
		if ra == nil {
			ev.Error = fmt.Sprintf("%s: the file system gives no random access to this file", v.Name())
			return false
		}
		res, err := v.Verify(ctx, signers.Input{Path: j.path, FS: j.fsys, Name: j.name, R: ra, Size: sum.Size, Format: sum.Format, Tap: taps[v]}, vopts)
		if err != nil {
			ev.Error = fmt.Sprintf("%s: %v", v.Name(), err)
			// A file whose signature data cannot be parsed is never trusted.
			ev.SignatureStatus = signers.StatusInvalid
			if res == nil {
				return false
			}
		}
		applyResult(ev, res)
		return true
	}
	return true
}

func inspectBundle(ctx context.Context, ev *FileEvidence, j job, vopts signers.Options) {
	ev.Format = hashing.FormatAppBundle
	ev.Mode = ""
	res, err := j.bundle.VerifyBundle(ctx, j.fsys, j.name, vopts)
	if err != nil {
		ev.Error = fmt.Sprintf("bundle: %v", err)
		ev.SignatureStatus = signers.StatusInvalid
		if res == nil {
			return
		}
	}
	applyResult(ev, res)
}

func applyResult(ev *FileEvidence, res *signers.Result) {
	if res == nil {
		return
	}
	ev.Signatures = res.Signatures
	ev.PE, ev.MachO, ev.Bundle = res.PE, res.MachO, res.Bundle
	st := res.Status
	if st == "" {
		st = signers.Aggregate(res.Signatures)
	}
	if ev.SignatureStatus == signers.StatusInvalid {
		return // an error already made it invalid; never upgrade it
	}
	ev.SignatureStatus = st
}
