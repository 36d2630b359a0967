package core

import (
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// Subject is what a simulation asks a vendor's entries about: one executable on an endpoint,
// or a probe path that a policy path rule covers.
type Subject struct {
	// Platform is windows, mac or linux.
	Platform profile.OS
	// Path is the file's path on the endpoint.
	Path string
	// PE says the file is a Portable Executable (Defender file indicators match only PE files
	// on Windows).
	PE bool
	// Digests are the file's whole-file digests; empty for a probe path.
	Digests hashing.Digests
	// Signers are the leaf identities of the file's valid signatures; empty when the file is
	// unsigned, ad-hoc signed or its signature does not verify.
	Signers []SubjectSigner
}

// SubjectSigner is the leaf of one valid signature.
type SubjectSigner struct {
	// Apple is true for an Apple code signature, false for Authenticode.
	Apple            bool
	ThumbprintSHA1   string
	ThumbprintSHA256 string
	CommonName       string
	TeamID           string
}

// SubjectFor builds the Subject of inspected file f at endpoint path p. Only a file whose
// overall signature status is valid gets signers (a vendor trusts a certificate only on a
// signature that verifies), and of its signatures only the valid ones.
func SubjectFor(platform profile.OS, p string, f *edrpolicy.FileEvidence) Subject {
	t := Subject{Platform: platform, Path: p, PE: f.Format == hashing.FormatPE, Digests: lowerDigests(f.Digests)}
	if f.SignatureStatus != signers.StatusValid {
		return t
	}
	for i := range f.Signatures {
		s := &f.Signatures[i]
		if s.Status != signers.StatusValid {
			continue
		}
		ts := SubjectSigner{Apple: s.Kind == signers.KindApple, TeamID: s.TeamID}
		if s.Signer != nil {
			ts.ThumbprintSHA1 = strings.ToLower(s.Signer.ThumbprintSHA1)
			ts.ThumbprintSHA256 = strings.ToLower(s.Signer.ThumbprintSHA256)
			ts.CommonName = s.Signer.CommonName
		}
		t.Signers = append(t.Signers, ts)
	}
	return t
}

func lowerDigests(d hashing.Digests) hashing.Digests {
	return hashing.Digests{SHA256: strings.ToLower(d.SHA256), SHA1: strings.ToLower(d.SHA1), MD5: strings.ToLower(d.MD5)}
}

// HasDigest reports whether the target's digest of the given length (64 SHA-256, 40 SHA-1,
// 32 MD5) is v.
func (t Subject) HasDigest(v string) bool {
	v = strings.ToLower(v)
	switch len(v) {
	case 64:
		return v == t.Digests.SHA256
	case 40:
		return v == t.Digests.SHA1
	case 32:
		return v == t.Digests.MD5
	}
	return false
}
