package main

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the real CLI in-process as the "edrpolicy" command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"edrpolicy": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
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
