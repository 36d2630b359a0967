package atomicfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// StagePrefix starts the name of the staging directory a Set creates inside its directory.
// A directory of that name left by a crash is recovered (or removed) by the next Write.
const StagePrefix = ".edrpolicy-stage-"

const journalName = "JOURNAL"

// Set is a group of files written into one directory as a unit: either every file of the set
// and its commit file are in place, or (after any error) the files the directory held before
// are, byte for byte.
//
// Write stages every file in a directory inside Dir (same file system, so the renames below
// cannot fail for crossing devices: a sibling of Dir could lie on another file system when
// Dir is a mount point), writes and fsyncs each one, hard-links (or copies) the files it will
// replace into the stage, fsyncs a journal naming them, then renames the new files over the
// old ones, the commit file (MANIFEST.sha256) last, and removes the Stale files only after
// that. An error before the commit file's rename rolls every renamed file back from the
// stage; an error after it leaves the new set complete.
//
// A crash (kill -9, power loss) is recovered by the next Write into Dir, or by Recover,
// before anything else: a stage without a journal never touched Dir and is removed; with a
// journal whose commit file is not in place, the renamed files are put back from the stage;
// with the commit file in place, the stale files are removed. Between the crash and that
// next run, Dir may hold a mix if the crash fell inside the commit step (one rename per
// file); nothing outside that window leaves a mix.
type Set struct {
	// Dir is the output directory; it must exist.
	Dir string
	// Files are written into Dir; names must be plain file names, distinct, and not Commit's.
	Files []File
	// Commit is written last: its rename is the commit point of the set (the manifest).
	Commit File
	// Stale returns the names of files in Dir that the set replaces by nothing (removed after
	// the commit). It is called after any interrupted run has been recovered, so that it sees
	// the directory's settled state; nil means none.
	Stale func(FS) []string
	// FS performs the file-system operations; nil means the operating system's. Tests wrap
	// it to inject a failure at any step.
	FS FS
}

// File is one file of a Set.
type File struct {
	Name string
	Data []byte
	// Perm is the permission (before umask); 0 means 0o644.
	Perm os.FileMode
}

// journal records what the commit step changes, so that a crash can be rolled back.
type journal struct {
	// Names are the files renamed into Dir, in order; Backup says the stage holds the file
	// they replaced (under old/), else there was none.
	Names []journalEntry `json:"names"`
	// CommitSHA256 is the hex SHA-256 of the commit file: when Dir's commit file has it, the
	// set was committed.
	Commit       string   `json:"commit"`
	CommitSHA256 string   `json:"commit_sha256"`
	Stale        []string `json:"stale,omitempty"`
}

type journalEntry struct {
	Name   string `json:"name"`
	Backup bool   `json:"backup"`
}

// Write writes the set. See Set for the guarantee.
func (s Set) Write() (err error) {
	fsys := s.FS
	if fsys == nil {
		fsys = OS()
	}
	if err := s.check(); err != nil {
		return err
	}
	unlock, err := fsys.Lock(s.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := recoverDir(fsys, s.Dir); err != nil {
		return err
	}
	var stale []string
	if s.Stale != nil {
		stale = s.Stale(fsys)
	}
	if err := s.checkStale(stale); err != nil {
		return err
	}
	stage, err := fsys.MkdirTemp(s.Dir, StagePrefix+"*")
	if err != nil {
		return fmt.Errorf("%s: create staging directory: %w", s.Dir, err)
	}
	j, err := s.prepare(fsys, stage, stale)
	if err != nil {
		_ = fsys.RemoveAll(stage)
		return err
	}
	if err := s.commit(fsys, stage, j); err != nil {
		return err
	}
	// Stale files go before the stage: a crash in between leaves the journal that finishes
	// the removal. A leftover stage is recognised as committed next time.
	err = s.removeStale(fsys, j)
	_ = fsys.RemoveAll(stage)
	return err
}

func (s Set) check() error {
	seen := map[string]bool{}
	for _, f := range append(append([]File(nil), s.Files...), s.Commit) {
		if !PlainName(f.Name) || strings.HasPrefix(f.Name, StagePrefix) {
			return fmt.Errorf("output file name %q is not a plain file name", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("output file %q is given twice", f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

func (s Set) checkStale(stale []string) error {
	for _, n := range stale {
		if !PlainName(n) || strings.HasPrefix(n, StagePrefix) || n == s.Commit.Name {
			return fmt.Errorf("stale file name %q is not a plain file name", n)
		}
		for _, f := range s.Files {
			if f.Name == n {
				return fmt.Errorf("stale file name %q is also written", n)
			}
		}
	}
	return nil
}

// PlainName reports whether name is a file name without a directory part, control
// characters or separators of any platform.
func PlainName(name string) bool {
	if name == "" || name == "." || name == ".." {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return false
		}
	}
	return true
}

// prepare writes every file into stage/new, backs up the files they replace into stage/old
// and writes the journal. Dir is not changed.
func (s Set) prepare(fsys FS, stage string, stale []string) (*journal, error) {
	newDir, oldDir := filepath.Join(stage, "new"), filepath.Join(stage, "old")
	for _, d := range []string{newDir, oldDir} {
		if err := fsys.Mkdir(d, 0o700); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
	}
	all := append(append([]File(nil), s.Files...), s.Commit)
	for _, f := range all {
		if err := writeSynced(fsys, filepath.Join(newDir, f.Name), f.Data, f.Perm); err != nil {
			return nil, fmt.Errorf("%s: staging: %w", filepath.Join(s.Dir, f.Name), err)
		}
	}
	_ = fsys.SyncDir(newDir)
	sum := sha256.Sum256(s.Commit.Data)
	j := &journal{Commit: s.Commit.Name, CommitSHA256: hex.EncodeToString(sum[:]), Stale: stale}
	names := make([]string, 0, len(all))
	for _, f := range s.Files {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	names = append(names, s.Commit.Name)
	for _, n := range names {
		backup, err := backupFile(fsys, filepath.Join(s.Dir, n), filepath.Join(oldDir, n))
		if err != nil {
			return nil, err
		}
		j.Names = append(j.Names, journalEntry{Name: n, Backup: backup})
	}
	_ = fsys.SyncDir(oldDir)
	data, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	if err := writeSynced(fsys, filepath.Join(stage, journalName), data, 0o600); err != nil {
		return nil, fmt.Errorf("%s: journal: %w", stage, err)
	}
	_ = fsys.SyncDir(stage)
	return j, nil
}

// backupFile keeps the file at p (if any) at to: a hard link, or a copy where the file
// system has none. Only regular files are replaced.
func backupFile(fsys FS, p, to string) (bool, error) {
	fi, err := fsys.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("%s: not a regular file (%s): refusing to replace it; remove it or choose another output folder", p, fi.Mode().Type())
	}
	if err := fsys.Link(p, to); err == nil {
		return true, nil
	}
	data, err := fsys.ReadFile(p)
	if err != nil {
		return false, fmt.Errorf("%s: keeping a copy to restore on failure: %w", p, err)
	}
	if err := writeSynced(fsys, to, data, fi.Mode().Perm()); err != nil {
		return false, fmt.Errorf("%s: keeping a copy to restore on failure: %w", p, err)
	}
	return true, nil
}

// commit renames the staged files into Dir, the commit file last. On an error before the
// commit file is in place, it rolls back and removes the stage.
func (s Set) commit(fsys FS, stage string, j *journal) error {
	newDir := filepath.Join(stage, "new")
	for _, e := range j.Names {
		if e.Name == j.Commit {
			_ = fsys.SyncDir(s.Dir) // every file in place before the commit file
		}
		if err := fsys.Rename(filepath.Join(newDir, e.Name), filepath.Join(s.Dir, e.Name)); err != nil {
			err = fmt.Errorf("%s: %w", filepath.Join(s.Dir, e.Name), err)
			if rerr := rollback(fsys, s.Dir, stage, j); rerr != nil {
				return fmt.Errorf("%w; restoring the previous files failed too (%v): %s keeps them, and the next run into %s restores them", err, rerr, stage, s.Dir)
			}
			_ = fsys.RemoveAll(stage)
			return fmt.Errorf("%w (the previous files were restored)", err)
		}
	}
	_ = fsys.SyncDir(s.Dir)
	return nil
}

// rollback puts back what the journal's renames replaced: a file whose staged copy is gone
// was renamed into dir, so its backup goes back (or, with none, it is removed).
func rollback(fsys FS, dir, stage string, j *journal) error {
	var errs []error
	for _, e := range j.Names {
		if _, err := fsys.Lstat(filepath.Join(stage, "new", e.Name)); err == nil {
			continue // never renamed
		}
		target := filepath.Join(dir, e.Name)
		if e.Backup {
			if err := fsys.Rename(filepath.Join(stage, "old", e.Name), target); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("%s: %w", target, err))
			}
			continue
		}
		if err := fsys.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("%s: %w", target, err))
		}
	}
	_ = fsys.SyncDir(dir)
	return errors.Join(errs...)
}

// removeStale removes the files of an earlier set that this one does not write. The new set
// is complete whatever happens here; an error names what is left over.
func (s Set) removeStale(fsys FS, j *journal) error {
	var errs []error
	for _, n := range j.Stale {
		if !PlainName(n) {
			continue
		}
		p := filepath.Join(s.Dir, n)
		if err := fsys.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing %s, written by an earlier run and not by this one (the new files are in place): %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// Recover finishes or undoes what a crashed Write left in dir (see Set). Write calls it
// first; it is exported for programs that read dir without writing it.
func Recover(dir string, fsys FS) error {
	if fsys == nil {
		fsys = OS()
	}
	unlock, err := fsys.Lock(dir)
	if err != nil {
		return err
	}
	defer unlock()
	return recoverDir(fsys, dir)
}

func recoverDir(fsys FS, dir string) error {
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), StagePrefix) {
			continue
		}
		stage := filepath.Join(dir, e.Name())
		if err := recoverStage(fsys, dir, stage); err != nil {
			return fmt.Errorf("%s: recovering from an interrupted run (%s): %w", dir, stage, err)
		}
	}
	return nil
}

func recoverStage(fsys FS, dir, stage string) error {
	data, err := fsys.ReadFile(filepath.Join(stage, journalName))
	if errors.Is(err, fs.ErrNotExist) {
		return fsys.RemoveAll(stage) // the commit never started: dir is as it was
	}
	if err != nil {
		return err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil || !PlainName(j.Commit) {
		// A journal is fsynced before the first rename: a torn one means the commit never
		// started.
		return fsys.RemoveAll(stage)
	}
	for _, e := range j.Names {
		if !PlainName(e.Name) {
			return fmt.Errorf("journal names %q", e.Name)
		}
	}
	if cur, err := fsys.ReadFile(filepath.Join(dir, j.Commit)); err == nil {
		sum := sha256.Sum256(cur)
		if hex.EncodeToString(sum[:]) == j.CommitSHA256 {
			_ = (Set{Dir: dir}).removeStale(fsys, &j) // committed: finish
			return fsys.RemoveAll(stage)
		}
	}
	if err := rollback(fsys, dir, stage, &j); err != nil {
		return err
	}
	return fsys.RemoveAll(stage)
}

// writeSynced creates name (which must not exist), writes data, sets perm and fsyncs.
func writeSynced(fsys FS, name string, data []byte, perm os.FileMode) (err error) {
	if perm == 0 {
		perm = 0o644
	}
	f, err := fsys.Create(name)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = fsys.Remove(name)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	return f.Close()
}
