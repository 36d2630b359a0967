package signers

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TrustPool is a set of trusted roots and the anchor a chain to one of them is reported as.
type TrustPool struct {
	Roots  *x509.CertPool
	Anchor Anchor
}

// VerifyChain checks leaf's chain for usage at time at against each pool in turn. It returns
// the anchor of the first pool that accepts the chain and that chain's root; when none does,
// the most specific of the pools' failures (see MostSpecificChainError), so that a forged
// certificate found under one pool is not hidden by an unknown root in another. certErr, a
// bundled certificate that failed to parse, is appended to an unknown-authority error (the
// missing issuer may be that certificate).
func VerifyChain(leaf *x509.Certificate, intermediates []*x509.Certificate, certErr error, pools []TrustPool, usage x509.ExtKeyUsage, at time.Time) (Anchor, *x509.Certificate, error) {
	inter := x509.NewCertPool()
	for _, c := range intermediates {
		inter.AddCert(c)
	}
	var errs []error
	for _, p := range pools {
		if p.Roots == nil {
			continue
		}
		chains, err := leaf.Verify(x509.VerifyOptions{Intermediates: inter, Roots: p.Roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{usage}})
		if err == nil && len(chains) > 0 {
			c := chains[0]
			return p.Anchor, c[len(c)-1], nil
		}
		var ua x509.UnknownAuthorityError
		if errors.As(err, &ua) && certErr != nil {
			err = fmt.Errorf("%w: after failing to parse a bundled certificate: %v", err, certErr)
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return "", nil, x509.UnknownAuthorityError{Cert: leaf}
	}
	return "", nil, MostSpecificChainError(errs...)
}

// Chain failure ranks, most specific first. When several verifications of one signature
// fail (the system pool and --roots; see VerifyChain), the most specific failure is the one
// reported:
//
//  1. a certificate's signature does not verify under an issuer of the right name (a forged
//     or altered certificate: never a missing root to be pinned);
//  2. a certificate is expired or not yet valid at the time checked;
//  3. a certificate may not be used this way (key usage, extended key usage, name or path
//     constraints, too many intermediates);
//  4. the chain uses an algorithm Go refuses (SHA-1 signed CA certificates);
//  5. no trusted root is known for the chain (unknown-root), or anything else.
const (
	rankOther = iota
	rankUnknownRoot
	rankInsecure
	rankUsage
	rankValidity
	rankBadSignature
)

// chainRank ranks a chain verification error; higher is more specific.
func chainRank(err error) int {
	if err == nil {
		return -1
	}
	if BadCertificateSignature(err) {
		return rankBadSignature
	}
	var ci x509.CertificateInvalidError
	if errors.As(err, &ci) {
		if ci.Reason == x509.Expired {
			return rankValidity
		}
		return rankUsage
	}
	var ia x509.InsecureAlgorithmError
	if errors.As(err, &ia) || strings.Contains(err.Error(), "insecure algorithm") {
		return rankInsecure
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return rankUnknownRoot
	}
	return rankOther
}

// MostSpecificChainError returns the most specific of errs (nil ones ignored; the first of
// equal rank wins), by the order documented on the ranks above.
func MostSpecificChainError(errs ...error) error {
	var best error
	for _, e := range errs {
		if e != nil && (best == nil || chainRank(e) > chainRank(best)) {
			best = e
		}
	}
	return best
}

// BadCertificateSignature reports whether a chain error says that a candidate issuer with the
// right name was found but the certificate's signature does not verify under its key (a
// forged or altered certificate), as opposed to a missing root or a refused algorithm. Go
// reports this as an unknown authority "possibly because of" the verification error.
func BadCertificateSignature(err error) bool {
	if err == nil {
		return false
	}
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "possibly because of") &&
		(strings.Contains(m, "verification error") || strings.Contains(m, "verification failure"))
}

// DescribeChainError returns the Chain verdict for a chain verification error and the text
// reported with it (ChainError). A certificate whose issuer's signature does not verify is
// untrusted, said in so many words, not an unknown root.
func DescribeChainError(err error) (Chain, string) {
	if err == nil {
		return ChainTrusted, ""
	}
	if BadCertificateSignature(err) {
		var ua x509.UnknownAuthorityError
		errors.As(err, &ua)
		name := "(unnamed)"
		if ua.Cert != nil {
			name = certName(ua.Cert)
		}
		return ChainUntrusted, fmt.Sprintf("the issuer's signature on certificate %q does not verify (forged or altered certificate): %v", name, err)
	}
	return ClassifyChainError(err), err.Error()
}

func certName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.Subject.String()
}

// ClassifyChainError maps the error of an x509 chain verification to a Chain verdict: nil is
// trusted; a certificate whose signature does not verify under its named issuer, an expired
// certificate and a usage the chain does not allow are untrusted; an algorithm Go refuses
// (SHA-1 CAs) is insecure-algorithm; an unknown authority is unknown-root (Microsoft and UEFI
// roots are absent on Linux, Apple's on Windows); anything else is untrusted.
func ClassifyChainError(err error) Chain {
	switch chainRank(err) {
	case -1:
		return ChainTrusted
	case rankInsecure:
		return ChainInsecureAlgorithm
	case rankUnknownRoot:
		return ChainUnknownRoot
	}
	return ChainUntrusted
}
