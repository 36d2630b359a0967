package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the real CLI in-process as the "edrpolicy" command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		// edrpolicy-dropline FILE TEXT removes the lines of FILE that contain TEXT (a hand edit).
		"edrpolicy-dropline": func() { os.Exit(dropLines(os.Args[1:])) },
		// edrpolicy-remanifest DIR rewrites DIR/MANIFEST.sha256 for the files it lists, as
		// someone covering up a hand edit would.
		"edrpolicy-remanifest": func() { os.Exit(remanifest(os.Args[1:])) },
		"edrpolicy":            func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		// edrpolicy-flip FILE OFFSET flips one bit of FILE at OFFSET, to tamper with a copy.
		"edrpolicy-flip": func() {
			if len(os.Args) != 3 {
				os.Exit(2)
			}
			b, err := os.ReadFile(os.Args[1])
			off, err2 := strconv.Atoi(os.Args[2])
			if err != nil || err2 != nil || off < 0 || off >= len(b) {
				os.Exit(2)
			}
			b[off] ^= 1
			if os.WriteFile(os.Args[1], b, 0o644) != nil {
				os.Exit(2)
			}
			os.Exit(0)
		},
		// edrpolicy-covered DIR parses every vendor file of an output set back and checks
		// that each executable of its policy.json is covered for every vendor, and that
		// coverage.json agrees with the files (parseback_test.go).
		"edrpolicy-covered": func() { os.Exit(coveredMain()) },
	})
}

// TestScripts runs the CLI scenarios in testdata/script/*.txtar: each asserts stdout, stderr
// and the exit code exactly as scripts depending on the contract would see them.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}

func dropLines(args []string) int {
	if len(args) != 2 {
		return 2
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return 2
	}
	var keep []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.Contains(l, args[1]) {
			keep = append(keep, l)
		}
	}
	if len(keep) == len(strings.SplitAfter(string(b), "\n")) || os.WriteFile(args[0], []byte(strings.Join(keep, "")), 0o644) != nil {
		return 1
	}
	return 0
}

func remanifest(args []string) int {
	if len(args) != 1 {
		return 2
	}
	mp := filepath.Join(args[0], "MANIFEST.sha256")
	b, err := os.ReadFile(mp)
	if err != nil {
		return 2
	}
	var out strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		name := l[strings.Index(l, "  ")+2:]
		data, err := os.ReadFile(filepath.Join(args[0], name))
		if err != nil {
			return 2
		}
		fmt.Fprintf(&out, "%x  %s\n", sha256.Sum256(data), name)
	}
	if os.WriteFile(mp, []byte(out.String()), 0o644) != nil {
		return 2
	}
	return 0
}
