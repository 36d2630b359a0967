package edrpolicy

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// DetectedVersion is an application version read from an inspected install.
type DetectedVersion struct {
	Version string
	// Source says where it came from, e.g. "pe product_version of CrashPlanService.exe".
	Source string
}

// ErrNoVersion is returned (wrapped) when DetectVersion finds no version in the install.
var ErrNoVersion = errors.New("no version found in the inspected install")

// DetectVersion reads the installed version from the inventory using the profile's version
// sources for platform: the PE version resource of the vendor's executables, a bundle's
// Info.plist CFBundleShortVersionString (from the bundle evidence, or read from disk), or a
// version file the profile names. When several files disagree, the version most of them carry
// wins (ties: the highest), so that a bundled third-party helper does not decide.
func DetectVersion(inv *Inventory, p *profile.Profile, platform string) (DetectedVersion, error) {
	type cand struct{ version, source string }
	var cands []cand
	var tried []string
	for _, vs := range p.VersionSources {
		if vs.OS != platform {
			continue
		}
		tried = append(tried, vs.Kind)
		for i := range inv.Files {
			f := &inv.Files[i]
			switch vs.Kind {
			case "pe":
				if f.PE == nil || f.PE.Version == nil || !matchAny(vs.Files, f.Path) {
					continue
				}
				if len(vs.Companies) > 0 && !containsAnyFold(f.PE.Version.CompanyName, vs.Companies) {
					continue
				}
				v, field := f.PE.Version.ProductVersion, "product_version"
				if v == "" {
					v, field = f.PE.Version.FileVersion, "file_version"
				}
				if _, err := profile.ParseVersion(v); err == nil {
					cands = append(cands, cand{v, fmt.Sprintf("pe %s of %s", field, f.Path)})
				}
			case "plist":
				if f.Format == hashing.FormatAppBundle && f.Bundle != nil && matchAny(vs.Files, f.Path) {
					if _, err := profile.ParseVersion(f.Bundle.ShortVersion); err == nil {
						cands = append(cands, cand{f.Bundle.ShortVersion, "CFBundleShortVersionString of " + f.Path})
					}
					continue
				}
				dir, ok := strings.CutSuffix(f.Path, "/Contents/Info.plist")
				if !ok || !matchAny(vs.Files, dir) || hasBundleEvidence(inv, f.Root, dir) {
					continue
				}
				if v, err := readPlistVersion(diskPath(*f)); err == nil {
					cands = append(cands, cand{v, "CFBundleShortVersionString of " + f.Path})
				}
			case "file":
				if !matchAny(vs.Files, f.Path) {
					continue
				}
				if v, err := readVersionFile(diskPath(*f)); err == nil {
					cands = append(cands, cand{v, "version file " + f.Path})
				}
			}
		}
	}
	if len(cands) == 0 {
		if len(tried) == 0 {
			return DetectedVersion{}, fmt.Errorf("%w: profile %s names no version source for %s; give --app-version X.Y.Z", ErrNoVersion, p.Name, platform)
		}
		return DetectedVersion{}, fmt.Errorf("%w (looked for: %s); give --app-version X.Y.Z", ErrNoVersion, strings.Join(tried, ", "))
	}
	count := map[string]int{}
	for _, c := range cands {
		count[c.version]++
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if count[a.version] != count[b.version] {
			return count[a.version] > count[b.version]
		}
		if d := profile.MustVersion(a.version).Compare(profile.MustVersion(b.version)); d != 0 {
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
	return DetectedVersion{Version: v.String(), Source: src}, nil
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

func readPlistVersion(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	var info struct {
		Short string `plist:"CFBundleShortVersionString"`
	}
	if _, err := plist.Unmarshal(data, &info); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	if _, err := profile.ParseVersion(info.Short); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	return info.Short, nil
}

func readVersionFile(file string) (string, error) {
	fh, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		for _, w := range strings.FieldsFunc(sc.Text(), func(r rune) bool { return r == ' ' || r == '=' || r == '\t' || r == '"' || r == ':' }) {
			if w != "" && w[0] >= '0' && w[0] <= '9' && strings.Contains(w, ".") {
				if v, err := profile.ParseVersion(w); err == nil {
					return v.String(), nil
				}
			}
		}
	}
	return "", fmt.Errorf("%s: no version number found", file)
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
