package check

import (
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// The fixtures of package edrpolicy's decide tests that check's tests share: a fixed "now",
// test certificates and signatures, evidence of PE files.

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func leaf(name, sha1 string, notAfter time.Time) *signers.Certificate {
	return &signers.Certificate{
		Subject: "CN=" + name, CommonName: name, Organization: name, Issuer: "CN=Test CA", Serial: "01",
		ThumbprintSHA1: sha1, ThumbprintSHA256: strings.Repeat(sha1[:2], 32),
		NotBefore: testNow.AddDate(-1, 0, 0), NotAfter: notAfter,
		ExtKeyUsage: []string{"code-signing"}, KeyUsage: []string{"digital-signature"},
	}
}

var (
	vendorCert = leaf("Vendor Inc", "1111111111111111111111111111111111111111", testNow.AddDate(2, 0, 0))
	otherCert  = leaf("Runtime Corp", "2222222222222222222222222222222222222222", testNow.AddDate(2, 0, 0))
)

func authSig(cert *signers.Certificate, status signers.Status, chain signers.Chain, nested bool) signers.Signature {
	s := signers.Signature{Kind: signers.KindAuthenticode, Status: status, Chain: chain, Signer: cert, Nested: nested, DigestAlgorithm: "sha256"}
	if chain == signers.ChainTrusted {
		s.Anchor = signers.AnchorSystem
	}
	return s
}

func peFile(root, rel, sha string, status signers.Status, sigs ...signers.Signature) edrpolicy.FileEvidence {
	return edrpolicy.FileEvidence{Path: rel, Root: root, Size: 100, Format: hashing.FormatPE, Digests: hashing.Digests{SHA256: sha}, SignatureStatus: status, Signatures: sigs,
		PE: &signers.PEInfo{Machine: "amd64", Version: &signers.PEVersion{OriginalFilename: strings.ToUpper(rel[strings.LastIndex(rel, "/")+1:])}}}
}

// apple is a Developer ID signature: the leaf's OU is the Team ID and it carries the Developer
// ID Application extension; a trusted chain ends at Apple's root.
func apple(team, signingID string, status signers.Status, chain signers.Chain) signers.Signature {
	c := leaf("Developer ID Application: X ("+team+")", "4444444444444444444444444444444444444444", testNow.AddDate(3, 0, 0))
	c.OrganizationalUnits = []string{team}
	c.AppleExtensions = []string{"1.2.840.113635.100.6.1.13"}
	s := signers.Signature{Kind: signers.KindApple, Status: status, Chain: chain, TeamID: team, SigningID: signingID, Signer: c}
	if chain == signers.ChainTrusted {
		s.Anchor = signers.AnchorApple
	}
	return s
}

func h(c byte) string { return strings.Repeat(string(c), 64) }
