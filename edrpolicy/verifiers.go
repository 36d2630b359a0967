package edrpolicy

import (
	"runtime"

	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/authenticode"
	"github.com/edrpolicy/edrpolicy/signers/macho"
)

// DefaultVerifiers returns the signature verifiers Inspect uses when none are given: one per
// supported code-signing format (Authenticode for PE files, Apple code signing for Mach-O
// files and .app bundles). Each call returns new values; there is no global registry to
// mutate. A library user who supports another format passes their own list in
// InspectOptions.Verifiers (append to this one to keep the defaults).
func DefaultVerifiers() []signers.Verifier {
	return []signers.Verifier{authenticode.New(), macho.New()}
}

func defaultJobs() int { return runtime.GOMAXPROCS(0) }
