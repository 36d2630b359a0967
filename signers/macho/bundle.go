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

	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/signers"
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

// readCapped reads a whole file of at most max bytes.
func readCapped(fsys fs.FS, name string, max int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max)
	}
	return b, nil
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
	if _, err := plist.Unmarshal(raw, &ip); err != nil || ip.Executable != path.Base(name) {
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
	res, err := v.verifyBundle(ctx, fsys, dir, opts, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: macho bundle: %w", dir, err)
	}
	return res, nil
}

func (v *Verifier) verifyBundle(ctx context.Context, fsys fs.FS, dir string, opts signers.Options, depth int) (*signers.Result, error) {
	if depth > maxNestingDepth {
		return nil, errors.New("bundles nested too deeply")
	}
	lay, ok := bundleLayout(fsys, dir)
	if !ok {
		return nil, errors.New("no Info.plist: not a bundle")
	}
	rawInfo, err := readCapped(fsys, lay.info, maxInfoPlist)
	if err != nil {
		return nil, fmt.Errorf("Info.plist: %w", err)
	}
	var ip infoPlist
	if _, err := plist.Unmarshal(rawInfo, &ip); err != nil {
		return nil, fmt.Errorf("%s: %w", lay.info, err)
	}
	res := &signers.Result{Bundle: &signers.BundleInfo{
		Identifier: ip.Identifier, ShortVersion: ip.ShortVersion, BuildVersion: ip.Build, Executable: ip.Executable,
	}}
	rel := func(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, dir), "/") }
	crPath := path.Join(lay.contents, "_CodeSignature", "CodeResources")
	cr, crErr := readCapped(fsys, crPath, maxCodeResources)
	if crErr != nil && !errors.Is(crErr, fs.ErrNotExist) {
		return nil, fmt.Errorf("CodeResources: %w", crErr)
	}

	// Main executable.
	exePath := ""
	var mainIdx = -1
	if ip.Executable != "" && !strings.Contains(ip.Executable, "/") {
		exePath = path.Join(lay.exeDir, ip.Executable)
		bctx := &bundleCtx{infoPath: lay.info, infoPlist: rawInfo, codeResources: cr}
		sub, err := v.verifyFile(ctx, fsys, exePath, bctx, opts)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			res.Signatures = append(res.Signatures, signers.Signature{Kind: signers.KindApple, Status: signers.StatusInvalid,
				Path: rel(exePath), Error: "main executable named in Info.plist is missing"})
			mainIdx = 0
		case err != nil:
			res.Signatures = append(res.Signatures, signers.Signature{Kind: signers.KindApple, Status: signers.StatusInvalid,
				Path: rel(exePath), Error: err.Error()})
			mainIdx = 0
		default:
			res.MachO = sub.MachO
			if len(sub.Signatures) > 0 {
				mainIdx = 0
			}
			res.Signatures = append(res.Signatures, sub.Signatures...)
		}
	}

	// Sealed resources.
	if cr != nil {
		mod, miss, add, err := v.checkResources(ctx, fsys, lay.contents, exePath, cr, opts)
		var msg string
		switch {
		case errors.Is(err, errSealRules):
			msg = fmt.Sprintf("sealed resources of %s cannot be checked: %s: %v", dir, rel(crPath), err)
		case err != nil:
			return nil, fmt.Errorf("CodeResources: %w", err)
		case len(mod)+len(miss)+len(add) > 0:
			msg = fmt.Sprintf("sealed resources do not match _CodeSignature/CodeResources: %d modified, %d missing, %d added", len(mod), len(miss), len(add))
		}
		res.Bundle.Modified, res.Bundle.Missing, res.Bundle.Added = mod, miss, add
		if msg != "" {
			if mainIdx >= 0 {
				s := &res.Signatures[mainIdx]
				s.Status = signers.StatusInvalid
				if s.Error == "" {
					s.Error = msg
				} else {
					s.Error += "; " + msg
				}
			} else {
				res.Signatures = append(res.Signatures, signers.Signature{Kind: signers.KindApple, Status: signers.StatusInvalid, Error: msg})
			}
		}
	} else if mainIdx >= 0 && res.Signatures[mainIdx].Status != signers.StatusInvalid && hasResourcesOnDisk(fsys, lay.contents) {
		res.Signatures[mainIdx].Notes = append(res.Signatures[mainIdx].Notes, "bundle has no _CodeSignature/CodeResources: resources are not sealed")
	}

	// Nested code.
	nested, err := v.nestedCode(ctx, fsys, dir, lay, exePath, opts, depth)
	if err != nil {
		return nil, err
	}
	res.Signatures = append(res.Signatures, nested...)
	res.Status = signers.Aggregate(res.Signatures)
	return res, nil
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
func (v *Verifier) nestedCode(ctx context.Context, fsys fs.FS, dir string, lay layout, exePath string, opts signers.Options, depth int) ([]signers.Signature, error) {
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
					sub, err := v.verifyBundle(ctx, fsys, p, opts, depth+1)
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

// checkResources compares the files2 seal (or the legacy files seal) with the files under
// contents and returns contents-relative paths that are modified, missing and added.
func (v *Verifier) checkResources(ctx context.Context, fsys fs.FS, contents, exePath string, raw []byte, opts signers.Options) (modified, missing, added []string, err error) {
	var cr codeResources
	if _, err := plist.Unmarshal(raw, &cr); err != nil {
		return nil, nil, nil, err
	}
	entries := cr.Files2
	if entries == nil {
		entries = cr.Files
	}
	if entries == nil {
		return nil, nil, nil, errors.New("no files2 or files dictionary")
	}
	rules := defaultSealRules()
	if cr.Rules2 != nil {
		if rules, err = compileRules(cr.Rules2); err != nil {
			return nil, nil, nil, err
		}
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		if k == "" || strings.HasPrefix(k, "/") || strings.Contains("/"+k+"/", "/../") {
			modified = append(modified, k)
			continue
		}
		p := path.Join(contents, k)
		var h1, h2, cdh []byte
		var optional bool
		var link *string
		switch e := entries[k].(type) {
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
			modified = append(modified, k)
			continue
		}
		fi, err := fs.Lstat(fsys, p)
		if err != nil {
			if !optional {
				missing = append(missing, k)
			}
			continue
		}
		switch {
		case link != nil:
			if fi.Mode()&fs.ModeSymlink == 0 {
				modified = append(modified, k)
			} else if t, err := fs.ReadLink(fsys, p); err == nil && t != *link {
				modified = append(modified, k)
			}
		case cdh != nil:
			if !v.nestedCDHashMatches(ctx, fsys, p, fi, cdh, opts) {
				modified = append(modified, k)
			}
		case h2 != nil:
			if !fileHashMatches(fsys, p, fi, sha256.New, h2) {
				modified = append(modified, k)
			}
		case h1 != nil:
			if !fileHashMatches(fsys, p, fi, sha1.New, h1) {
				modified = append(modified, k)
			}
		default:
			modified = append(modified, k)
		}
	}

	err = fs.WalkDir(fsys, contents, func(p string, d fs.DirEntry, err error) error {
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
	return modified, missing, added, err
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
		if _, err := plist.Unmarshal(raw, &ip); err != nil || ip.Executable == "" {
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
