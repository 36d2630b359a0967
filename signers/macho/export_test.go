package macho

import "github.com/edrpolicy/edrpolicy/signers"

// Test hooks for the external test package.
var (
	FormatRequirement = formatRequirement
	BERToDER          = berToDER
)

// VerifyEmbeddedCMS parses an embedded signature (a SuperBlob), verifies its CMS and then the
// signer chain the way Verify does, without the page hashes. The error is for a CMS that does
// not verify; the chain verdict is returned apart, as in signers.Signature.
func VerifyEmbeddedCMS(sig []byte, opts signers.Options) (chain signers.Chain, notes []string, timestamped bool, err error) {
	sb, err := parseSuperBlob(sig)
	if err != nil {
		return "", nil, false, err
	}
	ts, err := verifyCMS(sb)
	if err != nil {
		return "", nil, false, err
	}
	chain, _ = New().chain(ts, opts, &notes)
	return chain, notes, ts.CounterSignature != nil, nil
}
