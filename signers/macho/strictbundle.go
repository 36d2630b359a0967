package macho

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

// This file holds the bundle checks of Apple's strict validation (kSecCSStrictValidate,
// `codesign --verify --strict`; Gatekeeper adds kSecCSRestrictSymlinks, see assessExecute in
// apple-oss-distributions/Security OSX/libsecurity_codesigning/lib/policyengine.cpp). They
// find what the seal of CodeResources does not cover: files beside Contents at the root of
// an app, files in the root of a versioned framework or in _CodeSignature, a main
// executable or Info.plist that is a symbolic link, and sealed symbolic links that point
// out of the bundle. Each makes the bundle's signature invalid, as Apple rejects it.

// sealScope is the resource scope of one bundle: the directory its CodeResources paths are
// relative to, and its compiled rules (nil when it has no seal).
type sealScope struct {
	contents string
	rules    *sealRules
}

// strictBundleProblems returns what Apple's strict validation rejects in the structure of
// the bundle at dir (see the functions it calls); resourcesBound tells whether the main
// executable's CodeDirectory binds CodeResources (true when that is unknown because the
// main executable could not be verified, which is reported on its own).
func strictBundleProblems(fsys fs.FS, dir string, lay layout, resourcesBound bool) []string {
	var out []string
	add := func(err error) {
		if err != nil {
			out = append(out, err.Error())
		}
	}
	switch lay.contents {
	case path.Join(dir, "Contents"):
		add(checkAppRoot(fsys, dir))
	case path.Join(dir, "Versions", "Current"):
		add(checkFrameworkRoot(fsys, dir))
	}
	if err := plainFile(fsys, lay.info, "Info.plist"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		add(err)
	}
	add(checkMetaDirectory(fsys, path.Join(lay.contents, "_CodeSignature"), resourcesBound))
	return out
}

// plainFile reports a file that is not a regular file of its own: a symbolic link (wherever
// it points, inside the bundle or not), a FIFO, a device. Apple: BundleDiskRep::checkPlainFile
// (bundlediskrep.cpp) compares fstat of the opened file with lstat of the path and records
// errSecCSRegularFile, "the main executable or Info.plist must be a regular file (no
// symlinks, etc.)", for the main executable and for Info.plist (loadRegularFile).
func plainFile(fsys fs.FS, name, what string) error {
	fi, err := fs.Lstat(fsys, name)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		t, _ := fs.ReadLink(fsys, name)
		return fmt.Errorf("strict validation: the %s %s is a symbolic link (to %q), not a regular file", what, name, t)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("strict validation: the %s %s is not a regular file (%s)", what, name, fi.Mode().Type())
	}
	return nil
}

// appRootFiles are the only files allowed beside Contents at the root of an app bundle
// (regular, not executable): BundleDiskRep::setup, bundlediskrep.cpp.
var appRootFiles = map[string]bool{".LSOverride": true, ".DS_Store": true, "Icon\r": true, ".SoftwareDepot.tracking": true}

// checkAppRoot applies the DirValidator of BundleDiskRep::setup (bundlediskrep.cpp) to the
// root of an app bundle: a Contents directory (not a symbolic link) and nothing else but a
// few regular, non-executable Finder files. Anything else, a Mach-O dropped beside Contents
// above all, is outside the seal: errSecCSUnsealedAppRoot, "unsealed contents present in
// the bundle root".
func checkAppRoot(fsys fs.FS, dir string) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return fmt.Errorf("strict validation: reading the bundle root: %w", err)
	}
	var bad []string
	hasContents := false
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == "Contents" && e.Type().IsDir():
			hasContents = true
		case appRootFiles[name] && e.Type().IsRegular() && !executable(e):
		default:
			bad = append(bad, describeEntry(e))
		}
	}
	if !hasContents {
		bad = append(bad, "no Contents directory")
	}
	if len(bad) > 0 {
		return fmt.Errorf("strict validation: unsealed contents present in the bundle root: %s", strings.Join(bad, ", "))
	}
	return nil
}

// checkFrameworkRoot applies BundleDiskRep::validateFrameworkRoot (bundlediskrep.cpp) to
// the root of a versioned framework: a Versions directory holding version directories and a
// Current symbolic link to one of them, top-level symbolic links to their namesakes in the
// current version, and at most .DS_Store and module.map files. Anything else is outside the
// seal: errSecCSUnsealedFrameworkRoot, "unsealed contents present in the root directory of
// an embedded framework".
func checkFrameworkRoot(fsys fs.FS, dir string) error {
	current := "Current"
	if t, err := fs.ReadLink(fsys, path.Join(dir, "Versions", "Current")); err == nil {
		current = "(Current|" + regexp.QuoteMeta(t) + ")"
	}
	inVersion := func(name string) *regexp.Regexp {
		return regexp.MustCompile(`^(\./)?Versions/` + current + "/" + regexp.QuoteMeta(name) + "$")
	}
	currentTarget := regexp.MustCompile(`^(\./)?(\.\.[^/]+|\.?[^\./][^/]*)$`)
	var bad []string
	versions, current1 := 0, false
	check := func(rel string, e fs.DirEntry) {
		typ := e.Type()
		link := ""
		if typ&fs.ModeSymlink != 0 {
			link, _ = fs.ReadLink(fsys, path.Join(dir, rel))
		}
		switch {
		case rel == "Versions/Current" && typ&fs.ModeSymlink != 0 && currentTarget.MatchString(link):
			current1 = true
		case strings.HasPrefix(rel, "Versions/") && !strings.Contains(rel[len("Versions/"):], "/") && typ.IsDir():
			versions++
		case (rel == ".DS_Store" || rel == "Versions/.DS_Store") && typ.IsRegular() && !executable(e):
		case !strings.Contains(rel, "/") && typ&fs.ModeSymlink != 0 && inVersion(rel).MatchString(link):
		case rel == "module.map" && typ.IsRegular() && !executable(e):
		default:
			bad = append(bad, describeEntry(e))
		}
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return fmt.Errorf("strict validation: reading the framework root: %w", err)
	}
	hasVersions := false
	for _, e := range entries {
		if e.Name() == "Versions" && e.Type().IsDir() {
			hasVersions = true
			sub, err := fs.ReadDir(fsys, path.Join(dir, "Versions"))
			if err != nil {
				return fmt.Errorf("strict validation: reading %s/Versions: %w", dir, err)
			}
			for _, v := range sub {
				check("Versions/"+v.Name(), v)
			}
			continue
		}
		check(e.Name(), e)
	}
	if !hasVersions || versions == 0 || !current1 {
		bad = append(bad, "no Versions directory with a version and a Current link to it")
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("strict validation: unsealed contents present in the root directory of an embedded framework: %s", strings.Join(bad, ", "))
	}
	return nil
}

// checkMetaDirectory applies BundleDiskRep::validateMetaDirectory (bundlediskrep.cpp) to
// _CodeSignature, which the seal does not cover: only regular files, and only those the
// signature uses. For a Mach-O main executable that is CodeResources when its
// CodeDirectory binds it (special slot -3), and an empty CodeSignature file. Anything else
// is errSecCSUnsealedAppRoot.
func checkMetaDirectory(fsys fs.FS, meta string, resourcesBound bool) error {
	entries, err := fs.ReadDir(fsys, meta)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("strict validation: reading %s: %w", meta, err)
	}
	var bad []string
	for _, e := range entries {
		switch {
		case !e.Type().IsRegular():
			bad = append(bad, describeEntry(e))
		case e.Name() == "CodeResources" && resourcesBound:
		case e.Name() == "CodeResources":
			bad = append(bad, "CodeResources (not bound by the main executable's signature)")
		case e.Name() == "CodeSignature" && emptyFile(e):
		default:
			bad = append(bad, describeEntry(e))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("strict validation: unsealed contents present in %s: %s", meta, strings.Join(bad, ", "))
	}
	return nil
}

func executable(e fs.DirEntry) bool {
	fi, err := e.Info()
	return err != nil || fi.Mode().Perm()&0o111 != 0
}

func emptyFile(e fs.DirEntry) bool {
	fi, err := e.Info()
	return err == nil && fi.Size() == 0
}

// describeEntry names a directory entry and its kind, quoting the name (it may hold
// control characters).
func describeEntry(e fs.DirEntry) string {
	kind := "file"
	switch t := e.Type(); {
	case t.IsDir():
		kind = "directory"
	case t&fs.ModeSymlink != 0:
		kind = "symbolic link"
	case !t.IsRegular():
		kind = "special file"
	case executable(e):
		kind = "executable file"
	}
	return fmt.Sprintf("%s %q", kind, e.Name())
}

// Symbolic links: SecStaticCode::validateSymlinkResource (StaticCode.cpp). Under strict
// validation with kSecCSRestrictSymlinks, a sealed symbolic link must resolve (realpath) to
// a path inside the resource directory of its bundle or of an enclosing bundle, and that
// path must be included in the envelope of that bundle (a rule seals it); an absolute link
// is allowed only into /System/ or /Library/. Anything else is errSecCSInvalidSymlink.

// maxSymlinkHops bounds the links followed while resolving one path (MAXSYMLINKS on macOS).
const maxSymlinkHops = 32

// systemLinkTargets are the absolute targets Apple accepts (allowedDestinations).
var systemLinkTargets = []string{"/System/", "/Library/"}

// strictSymlink judges a sealed symbolic link at p (a path in fsys) with target t and
// returns why it is rejected, or "". Absolute targets are judged by their text: the inspected
// tree is not necessarily the machine the bundle runs on, so /System and /Library cannot be
// resolved the way Apple's realpath does on the Mac (which also requires the target to exist).
func strictSymlink(fsys fs.FS, p, t string, scopes []sealScope) string {
	if strings.HasPrefix(t, "/") {
		c := path.Clean(t)
		for _, d := range systemLinkTargets {
			if strings.HasPrefix(c, d) && len(c) > len(d) {
				return ""
			}
		}
		return fmt.Sprintf("symbolic link to %q points outside the bundle (absolute links may only point into /System or /Library)", t)
	}
	resolved, ok := resolveIn(fsys, path.Join(path.Dir(p), t))
	if !ok {
		return fmt.Sprintf("symbolic link to %q does not resolve inside the inspected tree", t)
	}
	for i := len(scopes) - 1; i >= 0; i-- {
		sc := scopes[i]
		if !strings.HasPrefix(resolved, sc.contents+"/") {
			continue
		}
		if sc.rules != nil && sc.rules.sealed(strings.TrimPrefix(resolved, sc.contents+"/")) {
			return ""
		}
		return fmt.Sprintf("symbolic link to %q points to %s, which the seal does not cover", t, resolved)
	}
	return fmt.Sprintf("symbolic link to %q points outside the bundle (to %s)", t, resolved)
}

// resolveIn resolves name, a slash-separated path in fsys, like realpath(3): every symbolic
// link on the way is followed, relative to its directory. ok is false when the path does not
// exist, climbs above the root of fsys, meets an absolute link or too many links.
func resolveIn(fsys fs.FS, name string) (string, bool) {
	todo := strings.Split(name, "/")
	resolved := ""
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if resolved == "" {
				return "", false
			}
			if resolved = path.Dir(resolved); resolved == "." {
				resolved = ""
			}
			continue
		}
		next := path.Join(resolved, c)
		fi, err := fs.Lstat(fsys, next)
		if err != nil {
			return "", false
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if hops++; hops > maxSymlinkHops {
			return "", false
		}
		t, err := fs.ReadLink(fsys, next)
		if err != nil || strings.HasPrefix(t, "/") {
			return "", false
		}
		todo = append(strings.Split(t, "/"), todo...)
	}
	return resolved, resolved != ""
}
