package macho_test

import (
	"context"
	"crypto/sha1" // #nosec G505 -- CodeResources "hash" entries
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/macho"
)

// verifyDir verifies the bundle at dir/name (an app or a framework).
func verifyDir(t *testing.T, dir, name string, opts signers.Options) *signers.Result {
	t.Helper()
	res, err := macho.New().VerifyBundle(context.Background(), os.DirFS(dir), name, opts)
	require.NoError(t, err)
	return res
}

func mainError(res *signers.Result) string {
	if len(res.Signatures) == 0 {
		return ""
	}
	return res.Signatures[0].Error
}

// TestAppRoot adds things beside Contents at the root of a signed app. Apple's strict
// validation (BundleDiskRep::setup) allows only a few non-executable Finder files there.
func TestAppRoot(t *testing.T) {
	f := getFixtures(t)
	roots := signers.Options{Roots: f.chain.RootPool()}
	tests := []struct {
		name   string
		tamper func(t *testing.T, app string)
		want   string // "" means still valid
	}{
		{"signed Mach-O at the root", func(t *testing.T, app string) {
			require.NoError(t, os.WriteFile(filepath.Join(app, "helper"), readFile(t, f.signedArm), 0o755))
		}, `unsealed contents present in the bundle root: executable file "helper"`},
		{"unsigned Mach-O at the root, not executable", func(t *testing.T, app string) {
			require.NoError(t, os.WriteFile(filepath.Join(app, "payload"), readFile(t, f.unsignedAmd), 0o644))
		}, `file "payload"`},
		{"text file at the root", func(t *testing.T, app string) {
			require.NoError(t, os.WriteFile(filepath.Join(app, "README"), []byte("hi"), 0o644))
		}, `file "README"`},
		{"directory at the root", func(t *testing.T, app string) {
			require.NoError(t, os.Mkdir(filepath.Join(app, "Extras"), 0o755))
		}, `directory "Extras"`},
		{"symbolic link at the root", func(t *testing.T, app string) {
			require.NoError(t, os.Symlink("Contents/MacOS/Fixture", filepath.Join(app, "run")))
		}, `symbolic link "run"`},
		{"executable .DS_Store", func(t *testing.T, app string) {
			require.NoError(t, os.WriteFile(filepath.Join(app, ".DS_Store"), []byte("x"), 0o755))
		}, `executable file ".DS_Store"`},
		{"Contents replaced by a symbolic link", func(t *testing.T, app string) {
			moved := app + ".real"
			require.NoError(t, os.Rename(filepath.Join(app, "Contents"), moved))
			require.NoError(t, os.Symlink("../"+filepath.Base(moved), filepath.Join(app, "Contents")))
		}, `symbolic link "Contents", no Contents directory`},
		{"Mach-O dropped in _CodeSignature", func(t *testing.T, app string) {
			require.NoError(t, os.WriteFile(filepath.Join(app, "Contents", "_CodeSignature", "helper"), readFile(t, f.signedArm), 0o755))
		}, `unsealed contents present in Fixture.app/Contents/_CodeSignature: executable file "helper"`},
		{".DS_Store, Icon\\r and .LSOverride are allowed", func(t *testing.T, app string) {
			for _, n := range []string{".DS_Store", "Icon\r", ".LSOverride"} {
				require.NoError(t, os.WriteFile(filepath.Join(app, n), []byte("x"), 0o644))
			}
		}, ""},
		{"CodeResources not bound by the main executable", func(t *testing.T, app string) {
			exe := filepath.Join(app, "Contents", "MacOS", "Fixture")
			info := readFile(t, filepath.Join(app, "Contents", "Info.plist"))
			require.NoError(t, testfixtures.MachOSign(f.chain, f.linkerArm, exe+".new", testfixtures.MachOSignOptions{Identifier: "com.fixture.app", InfoPlist: info}))
			require.NoError(t, os.Rename(exe+".new", exe))
		}, `unsealed contents present in Fixture.app/Contents/_CodeSignature: CodeResources (not bound by the main executable's signature)`},
		{"an empty CodeSignature file is allowed", func(t *testing.T, app string) {
			require.NoError(t, os.WriteFile(filepath.Join(app, "Contents", "_CodeSignature", "CodeSignature"), nil, 0o644))
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := copyApp(t, f.app)
			tc.tamper(t, app)
			res := verifyDir(t, filepath.Dir(app), filepath.Base(app), roots)
			if tc.want == "" {
				assert.Equal(t, signers.StatusValid, res.Status, describe(res))
				return
			}
			assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
			assert.Contains(t, mainError(res), tc.want)
		})
	}
}

// TestBundleSymlinks replaces the main executable, Info.plist and sealed nested code with
// symbolic links (absolute and relative, inside and outside the bundle).
func TestBundleSymlinks(t *testing.T) {
	f := getFixtures(t)
	roots := signers.Options{Roots: f.chain.RootPool()}
	// replace moves a file out of the bundle (or to target inside it) and links to it.
	replace := func(rel string, inside, absolute bool) func(t *testing.T, app string) {
		return func(t *testing.T, app string) {
			p := filepath.Join(app, "Contents", filepath.FromSlash(rel))
			dst := filepath.Join(filepath.Dir(app), "outside-"+filepath.Base(p))
			if inside {
				dst = filepath.Join(app, "Contents", "Resources", "copy-"+filepath.Base(p))
			}
			require.NoError(t, os.Rename(p, dst))
			target := dst
			if !absolute {
				var err error
				target, err = filepath.Rel(filepath.Dir(p), dst)
				require.NoError(t, err)
			}
			require.NoError(t, os.Symlink(target, p))
		}
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, app string)
		want   string
	}{
		{"main executable → outside, absolute", replace("MacOS/Fixture", false, true), "the main executable Fixture.app/Contents/MacOS/Fixture is a symbolic link"},
		{"main executable → outside, relative", replace("MacOS/Fixture", false, false), "is a symbolic link (to \"../../../outside-Fixture\")"},
		{"main executable → inside the bundle, relative", replace("MacOS/Fixture", true, false), "is a symbolic link (to \"../Resources/copy-Fixture\")"},
		{"Info.plist → outside, relative", replace("Info.plist", false, false), "the Info.plist Fixture.app/Contents/Info.plist is a symbolic link"},
		{"Info.plist → inside, relative", replace("Info.plist", true, false), "the Info.plist Fixture.app/Contents/Info.plist is a symbolic link"},
		{"nested helper → outside, identical bytes", replace("Helpers/helper", false, true), "Helpers/helper: sealed as a file or nested code, found a symbolic link"},
		{"nested helper → inside, relative", replace("Helpers/helper", true, false), "Helpers/helper: sealed as a file or nested code, found a symbolic link"},
		{"sealed resource → outside, identical bytes", replace("Resources/greeting.txt", false, false), "Resources/greeting.txt: sealed as a file or nested code, found a symbolic link"},
		{"Resources directory → outside", func(t *testing.T, app string) {
			res := filepath.Join(app, "Contents", "Resources")
			require.NoError(t, os.Rename(res, app+".res"))
			require.NoError(t, os.Symlink("../../"+filepath.Base(app)+".res", res))
		}, "added"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := copyApp(t, f.app)
			tc.tamper(t, app)
			res := verifyDir(t, filepath.Dir(app), filepath.Base(app), roots)
			assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
			found := false
			for _, s := range res.Signatures {
				found = found || (s.Status == signers.StatusInvalid && strings.Contains(s.Error, tc.want))
			}
			assert.True(t, found, "no invalid signature says %q: %s", tc.want, describe(res))
		})
	}
}

// TestSealedSymlinks signs bundles that carry symbolic links sealed in CodeResources. Under
// strict validation (SecStaticCode::validateSymlinkResource) a sealed link must resolve into
// the bundle, onto a path the seal covers; absolute links only into /System or /Library.
func TestSealedSymlinks(t *testing.T) {
	f := getFixtures(t)
	roots := signers.Options{Roots: f.chain.RootPool()}
	tests := []struct {
		name  string
		links map[string]string
		extra func(t *testing.T, contents string) // after signing, outside the seal
		want  string                              // "" means valid
	}{
		{"relative, to a sealed file", map[string]string{"Resources/link": "greeting.txt"}, nil, ""},
		{"relative through a directory, to a sealed file", map[string]string{"Resources/deep/link": "../sub/config.json"}, nil, ""},
		{"chain of links inside", map[string]string{"Resources/l1": "l2", "Resources/l2": "greeting.txt"}, nil, ""},
		{"absolute into /Library", map[string]string{"Resources/fw": "/Library/Frameworks/Foo.framework"}, nil, ""},
		{"absolute into /System", map[string]string{"Resources/sys": "/System/Library/Frameworks"}, nil, ""},
		{"absolute /System/ itself", map[string]string{"Resources/sys": "/System/"}, nil, "absolute links may only point into /System or /Library"},
		{"absolute elsewhere", map[string]string{"Resources/passwd": "/etc/passwd"}, nil, "absolute links may only point into /System or /Library"},
		{"absolute /Library/../etc", map[string]string{"Resources/x": "/Library/../etc/passwd"}, nil, "absolute links may only point into /System or /Library"},
		{"relative, out of the bundle", map[string]string{"Resources/out": "../../../outside.txt"}, func(t *testing.T, contents string) {
			require.NoError(t, os.WriteFile(filepath.Join(contents, "..", "..", "outside.txt"), []byte("x"), 0o644))
		}, "points outside the bundle"},
		{"relative, to the app root", map[string]string{"Resources/up": "../../README"}, func(t *testing.T, contents string) {
			require.NoError(t, os.WriteFile(filepath.Join(contents, "..", "README"), []byte("x"), 0o644))
		}, "points outside the bundle"},
		{"relative, to an omitted file", map[string]string{"Resources/ds": ".DS_Store"}, func(t *testing.T, contents string) {
			require.NoError(t, os.WriteFile(filepath.Join(contents, "Resources", ".DS_Store"), []byte("x"), 0o644))
		}, "which the seal does not cover"},
		{"dangling", map[string]string{"Resources/gone": "nothing-here"}, nil, "does not resolve"},
		{"loop", map[string]string{"Resources/a": "b", "Resources/b": "a"}, nil, "does not resolve"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			app, err := testfixtures.MachOBundle(f.chain, dir, testfixtures.MachOBundleSpec{Executable: f.linkerArm, Symlinks: tc.links})
			require.NoError(t, err)
			if tc.extra != nil {
				tc.extra(t, filepath.Join(app, "Contents"))
			}
			res := verifyDir(t, dir, filepath.Base(app), roots)
			if tc.want == "" {
				assert.Equal(t, signers.StatusValid, res.Status, describe(res))
				return
			}
			assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
			assert.Contains(t, mainError(res), tc.want)
			assert.NotEmpty(t, res.Bundle.Modified)
		})
	}
}

// makeFramework writes a signed versioned framework Foo.framework under dir, laid out as
// codesign and Xcode do: Versions/A holds the code, Versions/Current links to A, and the
// top-level Foo and Resources link into Versions/Current.
func makeFramework(t *testing.T, f *fixtures, dir string) string {
	t.Helper()
	fw := filepath.Join(dir, "Foo.framework")
	a := filepath.Join(fw, "Versions", "A")
	require.NoError(t, os.MkdirAll(filepath.Join(a, "Resources"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(a, "_CodeSignature"), 0o755))
	info, err := plist.MarshalIndent(map[string]any{"CFBundleIdentifier": "com.fixture.foo", "CFBundleExecutable": "Foo",
		"CFBundlePackageType": "FMWK", "CFBundleShortVersionString": "1.0"}, plist.XMLFormat, "\t")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(a, "Resources", "Info.plist"), info, 0o644))
	h1, h2 := sha1.Sum(info), sha256.Sum256(info) // #nosec G401
	cr, err := plist.MarshalIndent(map[string]any{
		"files":  map[string]any{"Resources/Info.plist": h1[:]},
		"files2": map[string]any{"Resources/Info.plist": map[string]any{"hash": h1[:], "hash2": h2[:]}},
		"rules2": testfixtures.AppleDefaultRules2(),
	}, plist.XMLFormat, "\t")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(a, "_CodeSignature", "CodeResources"), cr, 0o644))
	require.NoError(t, testfixtures.MachOSign(f.chain, f.linkerArm, filepath.Join(a, "Foo"), testfixtures.MachOSignOptions{
		Identifier: "com.fixture.foo", InfoPlist: info, Resources: cr}))
	require.NoError(t, os.Symlink("A", filepath.Join(fw, "Versions", "Current")))
	require.NoError(t, os.Symlink("Versions/Current/Foo", filepath.Join(fw, "Foo")))
	require.NoError(t, os.Symlink("Versions/Current/Resources", filepath.Join(fw, "Resources")))
	return fw
}

// TestFrameworkRoot tampers with the root of a versioned framework, which its seal does not
// cover; Apple's BundleDiskRep::validateFrameworkRoot allows only the Versions layout.
func TestFrameworkRoot(t *testing.T) {
	f := getFixtures(t)
	roots := signers.Options{Roots: f.chain.RootPool()}
	tests := []struct {
		name   string
		tamper func(t *testing.T, fw string)
		want   string
	}{
		{"untouched", func(*testing.T, string) {}, ""},
		{".DS_Store and module.map allowed", func(t *testing.T, fw string) {
			require.NoError(t, os.WriteFile(filepath.Join(fw, ".DS_Store"), []byte("x"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(fw, "module.map"), []byte("x"), 0o644))
		}, ""},
		{"link to the version by name", func(t *testing.T, fw string) {
			require.NoError(t, os.Symlink("Versions/A/Resources/Info.plist", filepath.Join(fw, "Info.plist")))
		}, `symbolic link "Info.plist"`},
		{"Mach-O at the framework root", func(t *testing.T, fw string) {
			require.NoError(t, os.WriteFile(filepath.Join(fw, "Payload"), readFile(t, f.signedArm), 0o755))
		}, `executable file "Payload"`},
		{"top-level link out of the framework", func(t *testing.T, fw string) {
			require.NoError(t, os.Symlink("../../etc", filepath.Join(fw, "Headers")))
		}, `symbolic link "Headers"`},
		{"top-level link renamed", func(t *testing.T, fw string) {
			require.NoError(t, os.Symlink("Versions/Current/Foo", filepath.Join(fw, "Bar")))
		}, `symbolic link "Bar"`},
		{"Current pointing out of Versions", func(t *testing.T, fw string) {
			require.NoError(t, os.Remove(filepath.Join(fw, "Versions", "Current")))
			require.NoError(t, os.Symlink("../Versions/A", filepath.Join(fw, "Versions", "Current")))
		}, `symbolic link "Current"`},
		{"file in Versions", func(t *testing.T, fw string) {
			require.NoError(t, os.WriteFile(filepath.Join(fw, "Versions", "B"), []byte("x"), 0o644))
		}, `file "B"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fw := makeFramework(t, f, dir)
			tc.tamper(t, fw)
			res := verifyDir(t, dir, "Foo.framework", roots)
			if tc.want == "" {
				assert.Equal(t, signers.StatusValid, res.Status, describe(res))
				return
			}
			assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
			assert.Contains(t, mainError(res), "unsealed contents present in the root directory of an embedded framework")
			assert.Contains(t, mainError(res), tc.want)
		})
	}
}
