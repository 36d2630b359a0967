package edrpolicy

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/safeopen"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/safeplist"
)

// DetectedVersion is an application version read from an inspected install.
type DetectedVersion struct {
	Version string
	// Source says where it came from, e.g. "pe product_version of CrashPlanService.exe".
	Source string
}

// ErrNoVersion is returned (wrapped) when DetectVersion finds no version in the install.
var ErrNoVersion = errors.New("no version found in the inspected install")

// ErrUnverifiedVersion is returned (wrapped) by DetectVersion when a version source the
// profile names is a file whose signature does not verify, or lies in a bundle whose seal is
// broken: the version it carries may have been edited, and the version chooses the path
// table, so it is not taken. Give the version explicitly (--app-version) instead.
var ErrUnverifiedVersion = errors.New("the version source does not verify")

// DetectVersion reads the installed version from the inventory using the profile's version
// sources for platform: the PE version resource of the vendor's executables, a bundle's
// Info.plist CFBundleShortVersionString (from the bundle evidence, or read from disk), or a
// version file the profile names. When several files disagree, the version most of them carry
// wins (ties: the highest), so that a bundled third-party helper does not decide.
//
// A version source whose signature does not verify (a PE with an invalid Authenticode
// signature, a bundle with a broken seal or invalid signature, a version file inside such a
// bundle) makes DetectVersion fail with ErrUnverifiedVersion naming the file, whatever the
// other sources say: an unsigned file vouches for nothing and is used, but a signature that
// fails says the file was changed. Files on disk are read through safeopen (regular files
// beneath the root, size-capped); a file that cannot be read is named in the error when no
// version is found.
func DetectVersion(inv *Inventory, p *profile.Profile, platform profile.OS) (DetectedVersion, error) {
	s := versionScan{inv: inv, broken: brokenBundles(inv)}
	for _, vs := range p.VersionSources {
		if vs.OS != platform {
			continue
		}
		s.tried = append(s.tried, vs.Kind)
		for i := range inv.Files {
			s.consider(vs, &inv.Files[i])
		}
	}
	if len(s.untrusted) > 0 {
		return DetectedVersion{}, fmt.Errorf("%w: %s; the version it carries may have been changed, so it is not used: give the version explicitly (those files then get hash rules and a tampered warning)",
			ErrUnverifiedVersion, strings.Join(s.untrusted, "; "))
	}
	if len(s.cands) == 0 {
		why := ""
		if len(s.unread) > 0 {
			why = "; could not read " + strings.Join(s.unread, "; ")
		}
		if len(s.tried) == 0 {
			return DetectedVersion{}, fmt.Errorf("%w: profile %s names no version source for %s; give the version explicitly", ErrNoVersion, p.Name, platform)
		}
		return DetectedVersion{}, fmt.Errorf("%w (looked for: %s%s); give the version explicitly", ErrNoVersion, strings.Join(s.tried, ", "), why)
	}
	return s.best(), nil
}

// versionScan collects the candidates of DetectVersion.
type versionScan struct {
	inv       *Inventory
	broken    map[string]string
	tried     []string
	cands     []versionCand
	untrusted []string // sources whose signature or seal does not verify, with why
	unread    []string // sources that could not be read, with why
}

type versionCand struct{ version, source string }

func (s *versionScan) consider(vs profile.VersionSource, f *FileEvidence) {
	switch vs.Kind {
	case "pe":
		if f.PE == nil || f.PE.Version == nil || !matchAny(vs.Files, f.Path) {
			return
		}
		if len(vs.Companies) > 0 && !containsAnyFold(f.PE.Version.CompanyName, vs.Companies) {
			return
		}
		v, field := f.PE.Version.ProductVersion, "product_version"
		if v == "" {
			v, field = f.PE.Version.FileVersion, "file_version"
		}
		if _, err := profile.ParseVersion(v); err != nil {
			return
		}
		if why := s.unverified(f); why != "" {
			s.untrusted = append(s.untrusted, fmt.Sprintf("the PE version resource of %s, whose %s", displayName(*f), why))
			return
		}
		s.cands = append(s.cands, versionCand{v, fmt.Sprintf("pe %s of %s", field, f.Path)})
	case "plist":
		if f.Format == hashing.FormatAppBundle && matchAny(vs.Files, f.Path) {
			if why, ok := s.broken[f.Root+"\x00"+f.Path]; ok {
				if f.Error != "" {
					why += ": " + f.Error
				}
				s.untrusted = append(s.untrusted, fmt.Sprintf("the Info.plist of bundle %s, whose signature or seal does not verify (%s)", displayName(*f), why))
				return
			}
			if f.Bundle == nil {
				return // not verified (verification off): read from disk below
			}
			if _, err := profile.ParseVersion(f.Bundle.ShortVersion); err == nil {
				s.cands = append(s.cands, versionCand{f.Bundle.ShortVersion, "CFBundleShortVersionString of " + f.Path})
			}
			return
		}
		dir, ok := strings.CutSuffix(f.Path, "/Contents/Info.plist")
		if !ok || !matchAny(vs.Files, dir) || hasBundleEvidence(s.inv, f.Root, dir) {
			return
		}
		if _, ok := s.broken[f.Root+"\x00"+dir]; ok {
			return // reported with the bundle
		}
		v, err := readPlistVersion(*f)
		if err != nil {
			s.unread = append(s.unread, err.Error())
			return
		}
		s.cands = append(s.cands, versionCand{v, "CFBundleShortVersionString of " + f.Path})
	case "file":
		if !matchAny(vs.Files, f.Path) || f.Format == hashing.FormatAppBundle {
			return
		}
		if why := enclosingBroken(s.broken, f); why != "" {
			s.untrusted = append(s.untrusted, fmt.Sprintf("version file %s, in a bundle whose seal is broken (%s)", displayName(*f), why))
			return
		}
		v, err := readVersionFile(*f)
		if err != nil {
			s.unread = append(s.unread, err.Error())
			return
		}
		s.cands = append(s.cands, versionCand{v, "version file " + f.Path})
	}
}

// unverified says why a PE version source cannot be trusted, or "".
func (s *versionScan) unverified(f *FileEvidence) string {
	if why := enclosingBroken(s.broken, f); why != "" {
		return "enclosing bundle's seal is broken (" + why + ")"
	}
	if f.SignatureStatus != signers.StatusInvalid {
		return ""
	}
	why := "Authenticode signature does not verify"
	for _, sig := range f.Signatures {
		if sig.Status == signers.StatusInvalid && sig.Error != "" {
			return why + " (" + sig.Error + ")"
		}
	}
	if f.Error != "" {
		return why + " (" + f.Error + ")"
	}
	return why
}

func (s *versionScan) best() DetectedVersion {
	cands := s.cands
	count := map[string]int{}
	for _, c := range cands {
		count[c.version]++
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if count[a.version] != count[b.version] {
			return count[a.version] > count[b.version]
		}
		if d := compareVersions(a.version, b.version); d != 0 {
			return d > 0
		}
		return a.source < b.source
	})
	best := cands[0]
	v, _ := profile.ParseVersion(best.version)
	src := best.source
	if len(count) > 1 {
		src += fmt.Sprintf(" (%d files disagree)", len(cands)-count[best.version])
	}
	return DetectedVersion{Version: v.String(), Source: src}
}

func hasBundleEvidence(inv *Inventory, root, dir string) bool {
	for i := range inv.Files {
		f := &inv.Files[i]
		if f.Root == root && f.Path == dir && f.Bundle != nil && f.Bundle.ShortVersion != "" {
			return true
		}
	}
	return false
}

// diskPath is where the file was read from.
func diskPath(f FileEvidence) string {
	if f.Root == "" {
		return f.Path
	}
	return filepath.Join(f.Root, filepath.FromSlash(f.Path))
}

// readPlistVersion reads CFBundleShortVersionString from the Info.plist f, through safeopen:
// beneath f.Root, a regular file of at most safeopen.MaxInfoPlist bytes.
func readPlistVersion(f FileEvidence) (string, error) {
	data, err := safeopen.ReadFile(f.Root, f.Path, safeopen.MaxInfoPlist)
	if err != nil {
		return "", err
	}
	file := diskPath(f)
	var info struct {
		Short string `plist:"CFBundleShortVersionString"`
	}
	if _, err := safeplist.Unmarshal(data, &info); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	if _, err := profile.ParseVersion(info.Short); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	return info.Short, nil
}

// readVersionFile returns the first version-looking word of the text file f, read through
// safeopen (beneath f.Root, a regular file of at most safeopen.MaxVersionFile bytes).
func readVersionFile(f FileEvidence) (string, error) {
	data, err := safeopen.ReadFile(f.Root, f.Path, safeopen.MaxVersionFile)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		for _, w := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '=' || r == '\t' || r == '"' || r == ':' || r == '\r' }) {
			if w != "" && w[0] >= '0' && w[0] <= '9' && strings.Contains(w, ".") {
				if v, err := profile.ParseVersion(w); err == nil {
					return v.String(), nil
				}
			}
		}
	}
	return "", fmt.Errorf("%s: no version number found", diskPath(f))
}

// matchAny matches globs against the file name and against the whole relative path.
func matchAny(globs []string, rel string) bool {
	if len(globs) == 0 {
		return true
	}
	base := path.Base(rel)
	for _, g := range globs {
		if ok, _ := path.Match(g, base); ok {
			return true
		}
		if ok, _ := path.Match(g, rel); ok {
			return true
		}
	}
	return false
}

func containsAnyFold(s string, subs []string) bool {
	ls := strings.ToLower(s)
	for _, sub := range subs {
		if strings.Contains(ls, strings.ToLower(sub)) {
			return true
		}
	}
	return false
}

// compareVersions compares two version strings (profile.Version.Compare); a string that does
// not parse sorts below every version that does.
func compareVersions(a, b string) int {
	va, errA := profile.ParseVersion(a)
	vb, errB := profile.ParseVersion(b)
	switch {
	case errA != nil && errB != nil:
		return 0
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	return va.Compare(vb)
}
