// Command inspect is a library example: it inspects an install directory with edrpolicy and
// lists the executables whose signature a signer-based exception could NOT rely on (unsigned,
// invalid, ad-hoc, or signed by an untrusted chain), which would need hash rules instead.
//
//	go run ./examples/inspect /path/to/install
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/signers"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: inspect DIR")
		os.Exit(2)
	}
	inv, err := edrpolicy.Inspect(context.Background(), os.Args[1:], edrpolicy.InspectOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "inspect:", err)
		os.Exit(2)
	}
	executables, weak := 0, 0
	for _, f := range inv.Files {
		if f.Error != "" {
			fmt.Fprintf(os.Stderr, "%s: %s\n", f.Path, f.Error)
			continue
		}
		if !f.IsExecutable() {
			continue
		}
		executables++
		if reason := weakness(f); reason != "" {
			weak++
			fmt.Printf("%-12s %s  %s\n", reason, f.SHA256, f.Path)
		}
	}
	fmt.Printf("%d executables, %d need a hash rule rather than a signer rule\n", executables, weak)
}

// weakness says why a signer rule could not cover the file, or "" when it could.
func weakness(f edrpolicy.FileEvidence) string {
	if f.SignatureStatus != signers.StatusValid {
		return string(f.SignatureStatus)
	}
	for _, s := range f.Signatures {
		if s.Chain != signers.ChainTrusted {
			return string(s.Chain)
		}
	}
	return ""
}
