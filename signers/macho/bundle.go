package macho

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1" // #nosec G505 -- CodeResources "hash" entries are SHA-1
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/internal/safeopen"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/safeplist"
)

// Size caps for the bundle files read into memory.
const (
	maxInfoPlist     = 4 << 20
	maxCodeResources = 64 << 20
	maxNestingDepth  = 8
)

// bundleCtx is what a main executable needs from its bundle to check special slots.
type bundleCtx struct {
	infoPath      string
	infoPlist     []byte
	codeResources []byte
	// resourcesBound is set by the verification of the main executable when one of its
	// CodeDirectories binds CodeResources (special slot -3); mainVerified when that
	// verification ran at all.
	resourcesBound, mainVerified bool
}

// layout locates a bundle's parts. dir is the bundle root (Foo.app, Bar.framework).
type layout struct {
	contents string // directory that CodeResources paths are relative to
	info     string // Info.plist
	exeDir   string // where the main executable lives
}

func bundleLayout(fsys fs.FS, dir string) (layout, bool) {
	if isFile(fsys, path.Join(dir, "Contents", "Info.plist")) {
		c := path.Join(dir, "Contents")
		return layout{contents: c, info: path.Join(c, "Info.plist"), exeDir: path.Join(c, "MacOS")}, true
	}
	for _, c := range []string{path.Join(dir, "Versions", "Current"), dir} {
		if isFile(fsys, path.Join(c, "Resources", "Info.plist")) {
			return layout{contents: c, info: path.Join(c, "Resources", "Info.plist"), exeDir: c}, true
		}
	}
	if isFile(fsys, path.Join(dir, "Info.plist")) { // shallow (iOS-style) bundle
		return layout{contents: dir, info: path.Join(dir, "Info.plist"), exeDir: dir}, true
	}
	return layout{}, false
}

func isFile(fsys fs.FS, name string) bool {
	fi, err := fs.Stat(fsys, name)
	return err == nil && fi.Mode().IsRegular()
}

// readCapped reads a whole file of at most max bytes through safeopen: a regular file only,
// beneath the root of fsys when it is an OS directory, the size checked before and while reading.
func readCapped(fsys fs.FS, name string, max int64) ([]byte, error) {
	return safeopen.ReadFS(fsys, name, max)
}

// infoPlist is the part of Info.plist edrpolicy reports.
type infoPlist struct {
	Identifier   string `plist:"CFBundleIdentifier"`
	ShortVersion string `plist:"CFBundleShortVersionString"`
	Build        string `plist:"CFBundleVersion"`
	Executable   string `plist:"CFBundleExecutable"`
}

// findBundleCtx recognises a main executable inside its bundle (Foo.app/Contents/MacOS/Foo,
// Bar.framework/Versions/A/Bar) and loads the bundle's Info.plist and CodeResources.
func findBundleCtx(fsys fs.FS, name string) *bundleCtx {
	dir := path.Dir(name)
	var info, cr string
	switch {
	case path.Base(dir) == "MacOS" && path.Base(path.Dir(dir)) == "Contents":
		c := path.Dir(dir)
		info, cr = path.Join(c, "Info.plist"), path.Join(c, "_CodeSignature", "CodeResources")
	case path.Base(path.Dir(dir)) == "Versions":
		info, cr = path.Join(dir, "Resources", "Info.plist"), path.Join(dir, "_CodeSignature", "CodeResources")
	default:
		return nil
	}
	raw, err := readCapped(fsys, info, maxInfoPlist)
	if err != nil {
		return nil
	}
	var ip infoPlist
	if _, err := safeplist.Unmarshal(raw, &ip); err != nil || ip.Executable != path.Base(name) {
		return nil
	}
	b := &bundleCtx{infoPath: info, infoPlist: raw}
	if crb, err := readCapped(fsys, cr, maxCodeResources); err == nil {
		b.codeResources = crb
	}
	return b
}

// bundleExts are the directory extensions of nested code bundles.
var bundleExts = map[string]bool{".app": true, ".xpc": true, ".appex": true, ".framework": true, ".bundle": true, ".plugin": true, ".kext": true, ".systemextension": true}

// IsBundle implements signers.BundleVerifier: a directory named *.app with Contents/Info.plist.
func (v *Verifier) IsBundle(fsys fs.FS, dir string) bool {
	return strings.HasSuffix(dir, ".app") && isFile(fsys, path.Join(dir, "Contents", "Info.plist"))
}

// VerifyBundle implements signers.BundleVerifier. It reads Info.plist, verifies the main
// executable (with Info.plist and CodeResources bound through its special slots), verifies
// nested code (Frameworks, Helpers, XPCServices, PlugIns, Library/LoginItems) and compares
// the sealed resources of _CodeSignature/CodeResources with the files on disk. Signatures of
// nested code carry their bundle-relative Path. Any modified, missing or added resource makes
// the bundle invalid.
func (v *Verifier) VerifyBundle(ctx context.Context, fsys fs.FS, dir string, opts signers.Options) (*signers.Result, error) {
	res, err := v.verifyBundle(ctx, fsys, dir, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: macho bundle: %w", dir, err)
	}
	return res, nil
}

// verifyBundle verifies the bundle at dir; outer are the resource scopes of the bundles that
// contain it (innermost last), which sealed symbolic links may point into.
func (v *Verifier) verifyBundle(ctx context.Context, fsys fs.FS, dir string, opts signers.Options, outer []sealScope) (*signers.Result, error) {
	if len(outer) > maxNestingDepth {
		return nil, errors.New("bundles nested too deeply")
	}
	lay, ok := bundleLayout(fsys, dir)
	if !ok {
		return nil, errors.New("no Info.plist: not a bundle")
	}
	rawInfo, err := readCapped(fsys, lay.info, maxInfoPlist)
	if err != nil {
		return nil, fmt.Errorf("reading Info.plist: %w", err)
	}
	var ip infoPlist
	if _, err := safeplist.Unmarshal(rawInfo, &ip); err != nil {
		return nil, fmt.Errorf("%s: %w", lay.info, err)
	}
	res := &signers.Result{Bundle: &signers.BundleInfo{
		Identifier: ip.Identifier, ShortVersion: ip.ShortVersion, BuildVersion: ip.Build, Executable: ip.Executable,
	}}
	crPath := path.Join(lay.contents, "_CodeSignature", "CodeResources")
	cr, crErr := readCapped(fsys, crPath, maxCodeResources)
	if crErr != nil && !errors.Is(crErr, fs.ErrNotExist) {
		return nil, fmt.Errorf("CodeResources: %w", crErr)
	}
	bctx := &bundleCtx{infoPath: lay.info, infoPlist: rawInfo, codeResources: cr}
	exePath, mainIdx := v.verifyMain(ctx, fsys, dir, lay, ip.Executable, bctx, opts, res)
	scope, err := v.checkSeal(ctx, fsys, dir, lay, exePath, crPath, bctx, opts, outer, res, mainIdx)
	if err != nil {
		return nil, err
	}
	if mainIdx >= 0 {
		for _, problem := range strictBundleProblems(fsys, dir, lay, bctx.resourcesBound || !bctx.mainVerified) {
			invalidate(&res.Signatures[mainIdx], problem)
		}
	}
	nested, err := v.nestedCode(ctx, fsys, dir, lay, exePath, opts, append(outer[:len(outer):len(outer)], scope))
	if err != nil {
		return nil, err
	}
	res.Signatures = append(res.Signatures, nested...)
	res.Status = signers.Aggregate(res.Signatures)
	return res, nil
}

// verifyMain verifies the main executable named by Info.plist and appends its signatures to
// res. It returns the executable's path ("" when Info.plist names none) and the index of its
// first signature in res.Signatures (-1 when it carries none). As in Apple's strict
// validation (BundleDiskRep::checkPlainFile, bundlediskrep.cpp: errSecCSRegularFile, "the
// main executable or Info.plist must be a regular file (no symlinks, etc.)"), a main
// executable that is a symbolic link, wherever it points, or not a regular file, is invalid;
// it is not opened.
func (v *Verifier) verifyMain(ctx context.Context, fsys fs.FS, dir string, lay layout, exe string, bctx *bundleCtx, opts signers.Options, res *signers.Result) (string, int) {
	if exe == "" || strings.Contains(exe, "/") {
		return "", -1
	}
	exePath := path.Join(lay.exeDir, exe)
	fail := func(msg string) (string, int) {
		res.Signatures = append(res.Signatures, signers.Signature{Kind: signers.KindApple, Status: signers.StatusInvalid,
			Path: relTo(dir, exePath), Error: msg})
		return exePath, len(res.Signatures) - 1
	}
	if err := plainFile(fsys, exePath, "main executable"); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fail("main executable named in Info.plist is missing")
		}
		return fail(err.Error())
	}
	sub, err := v.verifyFile(ctx, fsys, exePath, bctx, opts)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail("main executable named in Info.plist is missing")
	case err != nil:
		return fail(err.Error())
	}
	bctx.mainVerified = true
	res.MachO = sub.MachO
	idx := -1
	if len(sub.Signatures) > 0 {
		idx = len(res.Signatures)
	}
	res.Signatures = append(res.Signatures, sub.Signatures...)
	return exePath, idx
}

// relTo returns p relative to dir.
func relTo(dir, p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, dir), "/") }

// checkSeal compares the sealed resources with the files on disk and records the result in
// res (invalidating the main executable's signature, or adding an invalid one). It returns
// the bundle's resource scope for the nested bundles.
func (v *Verifier) checkSeal(ctx context.Context, fsys fs.FS, dir string, lay layout, exePath, crPath string, bctx *bundleCtx, opts signers.Options, outer []sealScope, res *signers.Result, mainIdx int) (sealScope, error) {
	scope := sealScope{contents: lay.contents}
	if bctx.codeResources == nil {
		if mainIdx >= 0 && res.Signatures[mainIdx].Status != signers.StatusInvalid && hasResourcesOnDisk(fsys, lay.contents) {
			res.Signatures[mainIdx].Notes = append(res.Signatures[mainIdx].Notes, "bundle has no _CodeSignature/CodeResources: resources are not sealed")
		}
		return scope, nil
	}
	diff, rules, err := v.checkResources(ctx, fsys, lay.contents, exePath, bctx.codeResources, opts, outer)
	var msg string
	switch {
	case errors.Is(err, errSealRules):
		msg = fmt.Sprintf("sealed resources of %s cannot be checked: %s: %v", dir, relTo(dir, crPath), err)
	case err != nil:
		return scope, fmt.Errorf("CodeResources: %w", err)
	case len(diff.modified)+len(diff.missing)+len(diff.added) > 0:
		msg = fmt.Sprintf("sealed resources do not match _CodeSignature/CodeResources: %d modified, %d missing, %d added", len(diff.modified), len(diff.missing), len(diff.added))
		if len(diff.problems) > 0 {
			msg += " (" + strings.Join(diff.problems, "; ") + ")"
		}
	}
	scope.rules = rules
	res.Bundle.Modified, res.Bundle.Missing, res.Bundle.Added = diff.modified, diff.missing, diff.added
	if msg != "" {
		if mainIdx >= 0 {
			invalidate(&res.Signatures[mainIdx], msg)
		} else {
			res.Signatures = append(res.Signatures, signers.Signature{Kind: signers.KindApple, Status: signers.StatusInvalid, Error: msg})
		}
	}
	return scope, nil
}

// verifyFile opens one file of the bundle and verifies it as Mach-O.
func (v *Verifier) verifyFile(ctx context.Context, fsys fs.FS, name string, bctx *bundleCtx, opts signers.Options) (*signers.Result, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ra, ok := f.(io.ReaderAt)
	if !ok {
		// Fall back to memory for file systems without random access (fstest.MapFS has it).
		b, err := io.ReadAll(io.LimitReader(f, fi.Size()))
		if err != nil {
			return nil, err
		}
		ra = bytes.NewReader(b)
	}
	return v.verifyReader(ctx, ra, fi.Size(), bctx, opts)
}

// nestedDirs are where nested code lives, relative to a bundle's contents directory.
var nestedDirs = []string{"Frameworks", "SharedFrameworks", "Helpers", "XPCServices", "PlugIns", "Plug-ins", "Library/LoginItems", "Library/SystemExtensions", "MacOS"}

// nestedCode verifies the code found in the nested-code directories. Each returned Signature
// has Path set to the bundle-relative path of the file that carries it.
func (v *Verifier) nestedCode(ctx context.Context, fsys fs.FS, dir string, lay layout, exePath string, opts signers.Options, scopes []sealScope) ([]signers.Signature, error) {
	var out []signers.Signature
	for _, nd := range nestedDirs {
		root := path.Join(lay.contents, nd)
		if fi, err := fs.Stat(fsys, root); err != nil || !fi.IsDir() {
			continue
		}
		err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable entries are reported by the resource check
			}
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			relp := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
			if d.IsDir() {
				if p != root && bundleExts[path.Ext(p)] {
					sub, err := v.verifyBundle(ctx, fsys, p, opts, scopes)
					if err != nil {
						out = append(out, signers.Signature{Kind: signers.KindApple, Status: signers.StatusInvalid, Path: relp, Nested: true, Error: err.Error()})
						return fs.SkipDir
					}
					if len(sub.Signatures) == 0 {
						out = append(out, signers.Signature{Kind: signers.KindApple, Status: signers.StatusInvalid, Path: relp, Nested: true, Error: "nested bundle is not signed"})
					}
					for _, s := range sub.Signatures {
						s.Nested = true
						if s.Path == "" {
							s.Path = relp
						} else {
							s.Path = relp + "/" + s.Path
						}
						out = append(out, s)
					}
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || p == exePath {
				return nil
			}
			if !looksMachO(fsys, p) {
				return nil
			}
			sub, err := v.verifyFile(ctx, fsys, p, nil, opts)
			if err != nil {
				out = append(out, signers.Signature{Kind: signers.KindApple, Status: signers.StatusInvalid, Path: relp, Nested: true, Error: err.Error()})
				return nil
			}
			if len(sub.Signatures) == 0 {
				out = append(out, signers.Signature{Kind: signers.KindApple, Status: signers.StatusInvalid, Path: relp, Nested: true,
					SignerClass: signers.SignerUnsigned, Error: "nested code is not signed"})
			}
			for _, s := range sub.Signatures {
				s.Nested, s.Path = true, relp
				out = append(out, s)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// looksMachO reads a file's first four bytes and tells whether they are a Mach-O or fat magic.
func looksMachO(fsys fs.FS, name string) bool {
	f, err := fsys.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	var m [8]byte
	if _, err := io.ReadFull(f, m[:]); err != nil {
		return false
	}
	switch string(m[:4]) {
	case "\xcf\xfa\xed\xfe", "\xce\xfa\xed\xfe", "\xfe\xed\xfa\xcf", "\xfe\xed\xfa\xce", "\xca\xfe\xba\xbf":
		return true
	case "\xca\xfe\xba\xbe":
		n := uint32(m[4])<<24 | uint32(m[5])<<16 | uint32(m[6])<<8 | uint32(m[7])
		return n > 0 && n <= maxFatArchs // a Java class file has a larger value here
	}
	return false
}

func hasResourcesOnDisk(fsys fs.FS, contents string) bool {
	fi, err := fs.Stat(fsys, path.Join(contents, "Resources"))
	return err == nil && fi.IsDir()
}

// codeResources is the part of _CodeSignature/CodeResources that seals files.
type codeResources struct {
	Files  map[string]any `plist:"files"`
	Files2 map[string]any `plist:"files2"`
	Rules2 map[string]any `plist:"rules2"`
}

// sealDiff is the difference between a bundle's seal and the files on disk: contents-relative
// paths, and why for the entries whose verdict needs explaining.
type sealDiff struct {
	modified, missing, added []string
	problems                 []string
}

// checkResources compares the files2 seal (or the legacy files seal) with the files under
// contents. outer are the resource scopes of the enclosing bundles; it returns the compiled
// rules for the nested bundles' scopes.
func (v *Verifier) checkResources(ctx context.Context, fsys fs.FS, contents, exePath string, raw []byte, opts signers.Options, outer []sealScope) (sealDiff, *sealRules, error) {
	var d sealDiff
	var cr codeResources
	if _, err := safeplist.Unmarshal(raw, &cr); err != nil {
		return d, nil, err
	}
	entries := cr.Files2
	if entries == nil {
		entries = cr.Files
	}
	if entries == nil {
		return d, nil, errors.New("no files2 or files dictionary")
	}
	rules := defaultSealRules()
	if cr.Rules2 != nil {
		var err error
		if rules, err = compileRules(cr.Rules2); err != nil {
			return d, nil, err
		}
	}
	scopes := append(outer[:len(outer):len(outer)], sealScope{contents: contents, rules: rules})
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return d, nil, err
		}
		switch verdict, why := v.checkEntry(ctx, fsys, contents, k, entries[k], opts, scopes); verdict {
		case entryModified:
			d.modified = append(d.modified, k)
			if why != "" {
				d.problems = append(d.problems, why)
			}
		case entryMissing:
			d.missing = append(d.missing, k)
		}
	}
	var err error
	d.added, err = addedFiles(fsys, contents, exePath, entries, rules)
	return d, rules, err
}

// Verdicts of checkEntry.
const (
	entryOK = iota
	entryModified
	entryMissing
)

// checkEntry checks one files2 (or files) entry against the disk.
func (v *Verifier) checkEntry(ctx context.Context, fsys fs.FS, contents, k string, val any, opts signers.Options, scopes []sealScope) (int, string) {
	if k == "" || strings.HasPrefix(k, "/") || strings.Contains("/"+k+"/", "/../") {
		return entryModified, ""
	}
	p := path.Join(contents, k)
	var h1, h2, cdh []byte
	var optional bool
	var link *string
	switch e := val.(type) {
	case []byte:
		h1 = e
	case map[string]any:
		h1, _ = e["hash"].([]byte)
		h2, _ = e["hash2"].([]byte)
		cdh, _ = e["cdhash"].([]byte)
		optional, _ = e["optional"].(bool)
		if s, ok := e["symlink"].(string); ok {
			link = &s
		}
	default:
		return entryModified, ""
	}
	fi, err := fs.Lstat(fsys, p)
	if err != nil {
		if optional {
			return entryOK, ""
		}
		return entryMissing, ""
	}
	isLink := fi.Mode()&fs.ModeSymlink != 0
	ok := false
	switch {
	case link != nil:
		if !isLink {
			return entryModified, ""
		}
		t, err := fs.ReadLink(fsys, p)
		if err != nil || t != *link {
			return entryModified, ""
		}
		if why := strictSymlink(fsys, p, t, scopes); why != "" {
			return entryModified, fmt.Sprintf("%s: %s", k, why)
		}
		return entryOK, ""
	case isLink && (cdh != nil || h1 != nil || h2 != nil):
		// Sealed nested code or file replaced by a symbolic link: a changed type, whatever
		// the link points to (StaticCode.cpp, SecStaticCode::validateResource).
		return entryModified, fmt.Sprintf("%s: sealed as a file or nested code, found a symbolic link", k)
	case cdh != nil:
		ok = v.nestedCDHashMatches(ctx, fsys, p, fi, cdh, opts)
	case h2 != nil:
		ok = fileHashMatches(fsys, p, fi, sha256.New, h2)
	case h1 != nil:
		ok = fileHashMatches(fsys, p, fi, sha1.New, h1)
	}
	if !ok {
		return entryModified, ""
	}
	return entryOK, ""
}

// addedFiles walks contents for files the rules seal that the seal does not list.
func addedFiles(fsys fs.FS, contents, exePath string, entries map[string]any, rules *sealRules) ([]string, error) {
	var added []string
	err := fs.WalkDir(fsys, contents, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == contents {
			return nil
		}
		rel := strings.TrimPrefix(p, contents+"/")
		if d.IsDir() {
			if rel == "_CodeSignature" {
				return fs.SkipDir
			}
			if _, ok := entries[rel]; ok { // sealed nested bundle
				return fs.SkipDir
			}
			if bundleExts[path.Ext(rel)] && rules.sealed(rel) {
				added = append(added, rel)
				return fs.SkipDir
			}
			return nil
		}
		if p == exePath {
			return nil
		}
		if _, ok := entries[rel]; ok {
			return nil
		}
		if rules.sealed(rel) {
			added = append(added, rel)
		}
		return nil
	})
	return added, err
}

// fileHashMatches streams a regular file through a hash and compares.
func fileHashMatches(fsys fs.FS, name string, fi fs.FileInfo, nh func() hash.Hash, want []byte) bool {
	if !fi.Mode().IsRegular() {
		return false
	}
	f, err := fsys.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	h := nh()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return hmac.Equal(h.Sum(nil), want)
}

// nestedCDHashMatches checks nested code sealed by cdhash: a Mach-O file, or a bundle whose
// main executable has a CodeDirectory with that hash (any slice, any CodeDirectory).
func (v *Verifier) nestedCDHashMatches(ctx context.Context, fsys fs.FS, p string, fi fs.FileInfo, want []byte, opts signers.Options) bool {
	exe := p
	if fi.IsDir() {
		lay, ok := bundleLayout(fsys, p)
		if !ok {
			return false
		}
		raw, err := readCapped(fsys, lay.info, maxInfoPlist)
		if err != nil {
			return false
		}
		var ip infoPlist
		if _, err := safeplist.Unmarshal(raw, &ip); err != nil || ip.Executable == "" {
			return false
		}
		exe = path.Join(lay.exeDir, ip.Executable)
	}
	res, err := v.verifyFile(ctx, fsys, exe, nil, opts)
	if err != nil || res.MachO == nil {
		return false
	}
	got := fmt.Sprintf("%x", want)
	for _, sl := range res.MachO.Slices {
		if sl.CDHash == got {
			return true
		}
		for _, a := range sl.AltCDHashes {
			if a == got {
				return true
			}
		}
	}
	return false
}
