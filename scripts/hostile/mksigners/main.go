// Command mksigners writes the hostile signature inputs of issue #12 (items 3 and 6) into a
// directory, for scripts/hostile/signers.sh:
//
//	bomb-thin/     a thin Mach-O whose CMS wrapper holds 8 MiB of "30 80", next to a good one
//	bomb-fat/      a universal file with the bomb in its arm64 slice, next to a good one
//	bomb-pe/       a PE whose certificate entry is 8 MiB of "30 80", next to a good PE
//	seal-exact/    Seal.app: 20,000 exact-path rules2 entries x 20,000 unsealed files
//	seal-regex/    Seal.app: 20,000 regular-expression rules2 entries x 20,000 unsealed files
//	plist-bomb/    Seal.app whose CodeResources is 1,000,000 nested <array> elements (7 MB)
//
// Usage: go run ./scripts/hostile/mksigners DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
)

const (
	bombPairs = 4 << 20 // 8 MiB of "30 80"
	sealN     = 20_000
	// plistDepth nested <array> elements overflowed howett.net/plist's stack.
	plistDepth = 1_000_000
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mksigners DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "mksigners:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	bomb := testfixtures.BERBomb(bombPairs)
	good := testfixtures.MachOTiny(testfixtures.CPUX86_64, "com.fixture.good", nil)
	bad := testfixtures.MachOTiny(testfixtures.CPUArm64, "com.fixture.bomb", bomb)
	fat, err := testfixtures.MachOFat(good, bad)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"bomb-thin/bomb":   bad,
		"bomb-thin/good":   good,
		"bomb-fat/bomb":    fat,
		"bomb-fat/good":    good,
		"bomb-pe/bomb.exe": testfixtures.PETiny(bomb),
		"bomb-pe/good.exe": testfixtures.PETiny(nil),
		"seal-exact/.keep": nil,
		"seal-regex/.keep": nil,
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o755); err != nil { // #nosec G306 -- executables
			return err
		}
	}
	for _, exact := range []bool{true, false} {
		sub := "seal-regex"
		if exact {
			sub = "seal-exact"
		}
		if _, err := testfixtures.SealBundle(filepath.Join(dir, sub), testfixtures.SealBundleSpec{
			Rules: sealN, ExactRules: exact, Files: sealN, Executable: good,
		}); err != nil {
			return err
		}
	}
	deep := "<?xml version=\"1.0\"?><plist version=\"1.0\">" + strings.Repeat("<array>", plistDepth)
	_, err = testfixtures.SealBundle(filepath.Join(dir, "plist-bomb"), testfixtures.SealBundleSpec{
		Executable: good, CodeResources: []byte(deep),
	})
	return err
}
