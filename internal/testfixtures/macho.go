package testfixtures

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1" // #nosec G505 -- CodeResources carries legacy SHA-1 "hash" entries
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/sassoftware/relic/v7/lib/fruit/csblob"
	"github.com/sassoftware/relic/v7/lib/fruit/machos"
	"howett.net/plist"
)

// MachOBuildHello cross-builds ./internal/testfixtures/machohello for darwin/goarch with
// CGO_ENABLED=0 into dir and returns the binary's path. darwin/arm64 output carries the Go
// linker's ad-hoc signature (flags adhoc|linker-signed, identifier "a.out"); darwin/amd64
// output has no LC_CODE_SIGNATURE at all.
func MachOBuildHello(dir, goarch string) (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("machohello: cannot locate the fixture sources")
	}
	src := filepath.Join(filepath.Dir(self), "machohello")
	out := filepath.Join(dir, "hello-"+goarch)
	// `go test` puts its own GOROOT/bin first on the PATH of the processes it starts.
	gobin := "go"
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=darwin", "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("machohello: go build darwin/%s: %w\n%s", goarch, err, b)
	}
	return out, nil
}

// MachOSignOptions control MachOSign.
type MachOSignOptions struct {
	Identifier   string // signing identifier; default "com.fixture.hello"
	Timestamp    bool   // add an RFC 3161 timestamp from the chain's TSA
	HashFunc     crypto.Hash
	InfoPlist    []byte // bound through special slot -1
	Resources    []byte // CodeResources, bound through special slot -3
	Entitlements []byte // XML entitlements plist, embedded (slot 5)
	Flags        csblob.SignatureFlags
	// TeamID is the CodeDirectory's Team ID; empty: relic's default, the leaf's OU when
	// the leaf carries an Apple code-signing extension.
	TeamID string
}

// MachOSign signs the thin Mach-O at in with relic's machos.Sign under chain and writes out.
// An existing signature (the Go linker's) is replaced.
func MachOSign(chain *AppleChain, in, out string, o MachOSignOptions) error {
	if o.Identifier == "" {
		o.Identifier = "com.fixture.hello"
	}
	if o.HashFunc == 0 {
		o.HashFunc = crypto.SHA256
	}
	if o.Flags == 0 {
		o.Flags = csblob.FlagRuntime
	}
	f, err := os.Open(in) // #nosec G304 -- test fixture paths
	if err != nil {
		return fmt.Errorf("macho sign %s: %w", in, err)
	}
	defer f.Close()
	params := &csblob.SignatureParams{
		HashFunc:        o.HashFunc,
		SigningIdentity: o.Identifier,
		Flags:           o.Flags,
		InfoPlist:       o.InfoPlist,
		Resources:       o.Resources,
		Entitlement:     o.Entitlements,
		TeamIdentifier:  o.TeamID,
	}
	patch, _, err := machos.Sign(context.Background(), f, chain.Signer(o.Timestamp), params)
	if err != nil {
		return fmt.Errorf("macho sign %s: %w", in, err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return fmt.Errorf("macho sign %s: %w", in, err)
	}
	if err := patch.Apply(f, out); err != nil {
		return fmt.Errorf("macho sign %s: apply: %w", in, err)
	}
	return nil
}

// MachOFat assembles a universal (fat) file from thin Mach-O slices. Each slice is aligned to
// 2^14 bytes, as lipo does for arm64 and x86_64.
func MachOFat(slices ...[]byte) ([]byte, error) {
	const align = 14
	if len(slices) == 0 {
		return nil, errors.New("fat: no slices")
	}
	hdr := new(bytes.Buffer)
	_ = binary.Write(hdr, binary.BigEndian, []uint32{0xcafebabe, uint32(len(slices))})
	off := uint32(1 << align)
	var body []byte
	for i, s := range slices {
		if len(s) < 32 || binary.LittleEndian.Uint32(s) != 0xfeedfacf {
			return nil, fmt.Errorf("fat: slice %d is not a 64-bit little-endian Mach-O", i)
		}
		cpu, sub := binary.LittleEndian.Uint32(s[4:]), binary.LittleEndian.Uint32(s[8:])
		_ = binary.Write(hdr, binary.BigEndian, []uint32{cpu, sub, off, uint32(len(s)), align})
		pad := int(off) - (1 << align) - len(body)
		body = append(body, make([]byte, pad)...)
		body = append(body, s...)
		off += uint32(len(s))
		off = (off + (1<<align - 1)) &^ (1<<align - 1)
	}
	out := make([]byte, 1<<align, (1<<align)+len(body))
	copy(out, hdr.Bytes())
	return append(out, body...), nil
}

// MachOFirstCDHash returns sha256/sha1 of the slot-0 CodeDirectory of a thin 64-bit Mach-O,
// truncated to 20 bytes: what CodeResources records for nested code. It is a deliberately
// small, separate parser so fixtures do not depend on the code under test.
func MachOFirstCDHash(b []byte) ([]byte, error) {
	le := binary.LittleEndian
	if len(b) < 32 || le.Uint32(b) != 0xfeedfacf {
		return nil, errors.New("cdhash: not a thin 64-bit Mach-O")
	}
	ncmds, off := int(le.Uint32(b[16:])), 32
	for i := 0; i < ncmds && off+16 <= len(b); i++ {
		cmd, size := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if cmd == 0x1d {
			so, sn := int(le.Uint32(b[off+8:])), int(le.Uint32(b[off+12:]))
			if so+sn > len(b) || sn < 20 {
				return nil, errors.New("cdhash: signature out of range")
			}
			sig := b[so : so+sn]
			be := binary.BigEndian
			for j := 0; j < int(be.Uint32(sig[8:])); j++ {
				if be.Uint32(sig[12+8*j:]) != 0 {
					continue
				}
				co := int(be.Uint32(sig[16+8*j:]))
				cd := sig[co : co+int(be.Uint32(sig[co+4:]))]
				if cd[37] == 1 {
					s := sha1.Sum(cd) // #nosec G401
					return s[:20], nil
				}
				s := sha256.Sum256(cd)
				return s[:20], nil
			}
		}
		off += size
	}
	return nil, errors.New("cdhash: no code directory")
}

// MachOBundleSpec describes a minimal .app bundle for MachOBundle.
type MachOBundleSpec struct {
	Name         string            // bundle directory name without .app; default "Fixture"
	Identifier   string            // CFBundleIdentifier; default "com.fixture.app"
	ShortVersion string            // CFBundleShortVersionString; default "1.2.3"
	Build        string            // CFBundleVersion; default "123"
	Executable   string            // thin Mach-O to sign as Contents/MacOS/<Name>
	Helper       string            // optional thin Mach-O to sign as Contents/Helpers/helper (nested code)
	Resources    map[string]string // Contents-relative path → content; default two files under Resources/
	Timestamp    bool
	// Symlinks are Contents-relative path → target symbolic links, sealed in files2 as
	// codesign seals them ({symlink: target}).
	Symlinks map[string]string
}

// MachOBundle writes a signed .app bundle under dir and returns its path: Info.plist,
// resources sealed in _CodeSignature/CodeResources (files and files2 with SHA-1 "hash" and
// SHA-256 "hash2", nested code sealed by cdhash), the main executable signed under chain with
// Info.plist (slot -1) and CodeResources (slot -3) bound.
func MachOBundle(chain *AppleChain, dir string, s MachOBundleSpec) (string, error) {
	s = bundleDefaults(s)
	app := filepath.Join(dir, s.Name+".app")
	contents := filepath.Join(app, "Contents")
	for _, d := range []string{"MacOS", "_CodeSignature", "Resources"} {
		if err := os.MkdirAll(filepath.Join(contents, d), 0o755); err != nil {
			return "", fmt.Errorf("bundle: %w", err)
		}
	}
	infoPlist, err := writeInfoPlist(contents, s)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{}
	files2 := map[string]any{}
	if err := writeResources(contents, s.Resources, files, files2); err != nil {
		return "", err
	}
	if err := writeSymlinks(contents, s.Symlinks, files2); err != nil {
		return "", err
	}
	if s.Helper != "" {
		if err := writeHelper(chain, contents, s, files2); err != nil {
			return "", err
		}
	}
	crBytes, err := writeCodeResources(contents, files, files2)
	if err != nil {
		return "", err
	}
	if err := MachOSign(chain, s.Executable, filepath.Join(contents, "MacOS", s.Name), MachOSignOptions{
		Identifier: s.Identifier, Timestamp: s.Timestamp, InfoPlist: infoPlist, Resources: crBytes,
	}); err != nil {
		return "", fmt.Errorf("bundle: main executable: %w", err)
	}
	return app, nil
}

// bundleDefaults fills the name, identifier, versions and resources s leaves empty.
func bundleDefaults(s MachOBundleSpec) MachOBundleSpec {
	if s.Name == "" {
		s.Name = "Fixture"
	}
	if s.Identifier == "" {
		s.Identifier = "com.fixture.app"
	}
	if s.ShortVersion == "" {
		s.ShortVersion = "1.2.3"
	}
	if s.Build == "" {
		s.Build = "123"
	}
	if s.Resources == nil {
		s.Resources = map[string]string{
			"Resources/greeting.txt":    "hello\n",
			"Resources/en.lproj/a.txt":  "localized\n",
			"Resources/sub/config.json": `{"a":1}`,
		}
	}
	return s
}

// writeInfoPlist writes Contents/Info.plist of the bundle s describes and returns its bytes.
func writeInfoPlist(contents string, s MachOBundleSpec) ([]byte, error) {
	info := map[string]any{
		"CFBundleIdentifier":         s.Identifier,
		"CFBundleExecutable":         s.Name,
		"CFBundleName":               s.Name,
		"CFBundleShortVersionString": s.ShortVersion,
		"CFBundleVersion":            s.Build,
		"CFBundlePackageType":        "APPL",
	}
	infoPlist, err := plist.MarshalIndent(info, plist.XMLFormat, "\t")
	if err != nil {
		return nil, fmt.Errorf("bundle: Info.plist: %w", err)
	}
	if err := os.WriteFile(filepath.Join(contents, "Info.plist"), infoPlist, 0o644); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return infoPlist, nil
}

// writeResources writes the resources (Contents-relative path → content) and seals them in
// files (SHA-1) and files2 (SHA-1 "hash" and SHA-256 "hash2", localized ones optional).
func writeResources(contents string, resources map[string]string, files map[string][]byte, files2 map[string]any) error {
	for rel, content := range resources {
		p := filepath.Join(contents, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		h1 := sha1.Sum([]byte(content)) // #nosec G401
		h2 := sha256.Sum256([]byte(content))
		files[rel] = h1[:]
		e := map[string]any{"hash": h1[:], "hash2": h2[:]}
		if strings.Contains(rel, ".lproj/") {
			e["optional"] = true // as codesign marks localized resources
		}
		files2[rel] = e
	}
	return nil
}

// writeSymlinks makes the symbolic links (Contents-relative path → target) and seals them in
// files2.
func writeSymlinks(contents string, symlinks map[string]string, files2 map[string]any) error {
	for rel, target := range symlinks {
		p := filepath.Join(contents, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		if err := os.Symlink(target, p); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		files2[rel] = map[string]any{"symlink": target}
	}
	return nil
}

// writeHelper signs s.Helper into Contents/Helpers/helper and seals it in files2 as nested
// code (cdhash and requirement).
func writeHelper(chain *AppleChain, contents string, s MachOBundleSpec, files2 map[string]any) error {
	if err := os.MkdirAll(filepath.Join(contents, "Helpers"), 0o755); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	hp := filepath.Join(contents, "Helpers", "helper")
	if err := MachOSign(chain, s.Helper, hp, MachOSignOptions{Identifier: s.Identifier + ".helper", Timestamp: s.Timestamp}); err != nil {
		return fmt.Errorf("bundle: helper: %w", err)
	}
	b, err := os.ReadFile(hp) // #nosec G304
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	cdh, err := MachOFirstCDHash(b)
	if err != nil {
		return fmt.Errorf("bundle: helper: %w", err)
	}
	files2["Helpers/helper"] = map[string]any{
		"cdhash":      cdh,
		"requirement": fmt.Sprintf("identifier \"%s.helper\" and anchor apple generic and certificate leaf[subject.OU] = %s", s.Identifier, chain.TeamID),
	}
	return nil
}

// writeCodeResources writes _CodeSignature/CodeResources (the seals and codesign's default
// rules) and returns its bytes.
func writeCodeResources(contents string, files map[string][]byte, files2 map[string]any) ([]byte, error) {
	cr := map[string]any{
		"files":  files,
		"files2": files2,
		"rules": map[string]any{
			"^Resources/":                             true,
			"^Resources/.*\\.lproj/":                  map[string]any{"optional": true, "weight": 1000.0},
			"^Resources/Base\\.lproj/":                map[string]any{"weight": 1010.0},
			"^version.plist$":                         true,
			"^Resources/.*\\.lproj/locversion.plist$": map[string]any{"omit": true, "weight": 1100.0},
		},
		"rules2": AppleDefaultRules2(),
	}
	crBytes, err := plist.MarshalIndent(cr, plist.XMLFormat, "\t")
	if err != nil {
		return nil, fmt.Errorf("bundle: CodeResources: %w", err)
	}
	if err := os.WriteFile(filepath.Join(contents, "_CodeSignature", "CodeResources"), crBytes, 0o644); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return crBytes, nil
}

// AppleDefaultRules2 returns the rules2 dictionary codesign writes by default.
func AppleDefaultRules2() map[string]any {
	return map[string]any{
		"^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS|Library/(Automator|Spotlight|LoginItems))/": map[string]any{"nested": true, "weight": 10.0},
		"^.*":                           true,
		"^.*\\.lproj/":                  map[string]any{"optional": true, "weight": 1000.0},
		"^.*\\.lproj/locversion.plist$": map[string]any{"omit": true, "weight": 1100.0},
		"^Base\\.lproj/":                map[string]any{"weight": 1010.0},
		"^Info\\.plist$":                map[string]any{"omit": true, "weight": 20.0},
		"^PkgInfo$":                     map[string]any{"omit": true, "weight": 20.0},
		"^embedded\\.provisionprofile$": map[string]any{"weight": 20.0},
		"^version\\.plist$":             map[string]any{"weight": 20.0},
		"^(.*/)?\\.DS_Store$":           map[string]any{"omit": true, "weight": 2000.0},
		"^[^/]+$":                       map[string]any{"nested": true, "weight": 10.0},
	}
}
