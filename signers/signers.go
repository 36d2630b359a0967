// Package signers holds the signature model shared by every code-signing format and the
// Verifier interface that each format implements (Authenticode in signers/authenticode,
// Apple code signing in signers/macho).
//
// A Verifier never decides trust on its own terms: it reports, per signature, whether the
// signature is cryptographically valid for the bytes on disk (Status) and, separately, whether
// the signer's certificate chains to a trusted root (Chain). The policy engine combines them.
package signers

import (
	"context"
	"crypto/x509"
	"io"
	"io/fs"
	"time"

	"github.com/edrpolicy/edrpolicy/hashing"
)

// Status is the verdict on one signature, or on a whole file.
type Status string

// Status values; the strings are part of the JSON contract.
const (
	StatusUnsigned Status = "unsigned" // file level only: no signature at all
	StatusValid    Status = "valid"    // signature and every digest it covers check out
	StatusInvalid  Status = "invalid"  // present but does not verify: tampered, truncated, malformed
	StatusAdhoc    Status = "adhoc"    // Apple ad-hoc or linker-signed: pages verified, no signer identity
)

// Chain is the verdict on a signer's certificate chain, kept apart from signature validity.
type Chain string

// Chain values; the strings are part of the JSON contract.
const (
	ChainTrusted           Chain = "trusted"            // chains to the system pool or a --roots certificate
	ChainUntrusted         Chain = "untrusted"          // chains nowhere trusted, expired, wrong usage, ...
	ChainUnknownRoot       Chain = "unknown-root"       // self-consistent chain to a root this machine does not hold
	ChainInsecureAlgorithm Chain = "insecure-algorithm" // chain uses an algorithm Go refuses (SHA-1 CAs)
)

// Anchor names the trust anchor a trusted chain ends at.
type Anchor string

// Anchor values; the strings are part of the JSON contract.
const (
	AnchorApple  Anchor = "apple"  // Apple Root CA (built in)
	AnchorSystem Anchor = "system" // this machine's certificate pool
	AnchorRoots  Anchor = "roots"  // a certificate of Options.Roots (--roots)
)

// Kind names a signature scheme.
type Kind string

// Signature kinds; the strings are part of the JSON contract.
const (
	KindAuthenticode Kind = "authenticode"
	KindApple        Kind = "apple"
)

// SignerClass classifies an Apple code signature by the kind of identity behind it.
type SignerClass string

// SignerClass values; the strings are part of the JSON contract.
const (
	SignerDeveloperID   SignerClass = "developer-id"   // Developer ID Application/Installer/Kernel leaf
	SignerApplePlatform SignerClass = "apple-platform" // Apple's own software signing (OS binaries)
	SignerMacAppStore   SignerClass = "mac-app-store"  // signed for the Mac App Store
	SignerOther         SignerClass = "other"          // a CMS signature with any other leaf (Apple Development, private CA)
	SignerAdhoc         SignerClass = "adhoc"          // ad-hoc or linker-signed: no identity
	SignerUnsigned      SignerClass = "unsigned"       // no code signature
)

// Certificate describes a signer's leaf certificate.
type Certificate struct {
	Subject          string    `json:"subject"`
	CommonName       string    `json:"common_name,omitempty"`
	Organization     string    `json:"organization,omitempty"`
	Issuer           string    `json:"issuer"`
	Serial           string    `json:"serial"`            // lower-case hex
	ThumbprintSHA1   string    `json:"thumbprint_sha1"`   // hex of SHA-1(leaf DER), as openssl x509 -fingerprint -sha1
	ThumbprintSHA256 string    `json:"thumbprint_sha256"` // hex of SHA-256(leaf DER)
	NotBefore        time.Time `json:"not_before"`
	NotAfter         time.Time `json:"not_after"`

	// OrganizationalUnits are the subject OU values (an Apple leaf's Team ID); UID is the
	// subject UID attribute (0.9.2342.19200300.100.1.1).
	OrganizationalUnits []string `json:"organizational_units,omitempty"`
	UID                 string   `json:"uid,omitempty"`
	// ExtKeyUsage names the extended key usages (code-signing, time-stamping, ...; unknown
	// ones as dotted OIDs); absent when the certificate has no such extension. KeyUsage
	// names the key usage bits (digital-signature, ...); absent without the extension.
	ExtKeyUsage []string `json:"ext_key_usage,omitempty"`
	KeyUsage    []string `json:"key_usage,omitempty"`
	// AppleExtensions are the dotted OIDs of the leaf's Apple code-signing extensions
	// (1.2.840.113635.100.6.1.*: 13 Developer ID Application, 9 Mac App Store, ...).
	AppleExtensions []string `json:"apple_extensions,omitempty"`

	// Raw is the leaf's DER, kept for exporters that upload the certificate itself
	// (Defender's .cer files). It is not part of the JSON.
	Raw []byte `json:"-"`
}

// Signature is one signature found in a file: one Authenticode certificate-table entry, one
// nested Authenticode signature, or one Mach-O slice's code signature.
type Signature struct {
	Kind            Kind         `json:"kind"`
	Status          Status       `json:"status"`
	Error           string       `json:"error,omitempty"` // why Status is invalid
	Nested          bool         `json:"nested"`
	Arch            string       `json:"arch,omitempty"`
	DigestAlgorithm string       `json:"digest_algorithm,omitempty"` // sha1, sha256, ...
	SignedDigest    string       `json:"signed_digest,omitempty"`    // hex of the digest the signature covers
	Chain           Chain        `json:"chain,omitempty"`
	ChainError      string       `json:"chain_error,omitempty"` // why Chain is not trusted
	Timestamp       *time.Time   `json:"timestamp,omitempty"`
	Signer          *Certificate `json:"signer,omitempty"`
	TeamID          string       `json:"team_id,omitempty"`
	SigningID       string       `json:"signing_id,omitempty"`
	CDHash          string       `json:"cdhash,omitempty"`
	// SignerClass classifies an Apple signer (developer-id, apple-platform, ...).
	SignerClass SignerClass `json:"signer_class,omitempty"`
	// Path names the file inside a bundle that carries this signature (nested code); empty
	// for the file itself.
	Path string `json:"path,omitempty"`
	// Notes are non-fatal observations (a bundled certificate Go could not parse, ...).
	Notes []string `json:"notes,omitempty"`

	// Anchor names the root a trusted chain ends at: apple (Apple Root CA), system (this
	// machine's trust store) or roots (a certificate of Options.Roots, --roots).
	Anchor Anchor `json:"anchor,omitempty"`
	// TimestampChain is the verdict on the time-stamping authority's chain when the
	// signature carries a timestamp: only a trusted timestamp vouches for the signing time.
	TimestampChain Chain `json:"timestamp_chain,omitempty"`
	// WeakDigest names the broken digests (MD5, SHA-1) the signature rests on, e.g. "sha1
	// image digest, sha1 signer digest"; empty when every digest is strong.
	WeakDigest string `json:"weak_digest,omitempty"`
}

// PEVersion is the VS_VERSIONINFO string table of a PE file.
type PEVersion struct {
	FileVersion      string `json:"file_version,omitempty"`
	ProductVersion   string `json:"product_version,omitempty"`
	CompanyName      string `json:"company_name,omitempty"`
	ProductName      string `json:"product_name,omitempty"`
	OriginalFilename string `json:"original_filename,omitempty"`
}

// PEInfo is what a PE file tells beyond its signatures.
type PEInfo struct {
	Machine            string     `json:"machine"`                       // amd64, i386, arm64, ...
	AuthenticodeSHA256 string     `json:"authenticode_sha256,omitempty"` // image digest, as pesign -h prints it
	Version            *PEVersion `json:"version,omitempty"`
}

// MachOSlice is one architecture of a Mach-O file.
type MachOSlice struct {
	Arch      string   `json:"arch"`
	CDHash    string   `json:"cdhash,omitempty"` // 40 hex, as Apple tools and Santa show it
	SigningID string   `json:"signing_id,omitempty"`
	TeamID    string   `json:"team_id,omitempty"`
	Flags     []string `json:"flags,omitempty"`
	// SignerClass classifies the slice's signature (unsigned when it has none).
	SignerClass SignerClass `json:"signer_class,omitempty"`
	// CDVersion is the CodeDirectory version in hex ("0x20400"); HashType its hash (sha256).
	CDVersion string `json:"cd_version,omitempty"`
	HashType  string `json:"hash_type,omitempty"`
	// AltCDHashes are the CDHashes of alternate CodeDirectories (other hash types), 40 hex.
	AltCDHashes []string `json:"alt_cdhashes,omitempty"`
	// Entitlements are the keys of the embedded entitlements plist, sorted.
	Entitlements []string `json:"entitlements,omitempty"`
	// DesignatedRequirement is the designated requirement as text, where present.
	DesignatedRequirement string `json:"designated_requirement,omitempty"`
}

// MachOInfo is what a Mach-O file tells beyond its signatures.
type MachOInfo struct {
	Slices []MachOSlice `json:"slices"`
}

// BundleInfo describes a macOS .app bundle (from Contents/Info.plist and the sealed resources).
type BundleInfo struct {
	Identifier   string   `json:"identifier,omitempty"`
	ShortVersion string   `json:"short_version,omitempty"`
	BuildVersion string   `json:"build_version,omitempty"`
	Executable   string   `json:"executable,omitempty"`
	Modified     []string `json:"modified,omitempty"`
	Missing      []string `json:"missing,omitempty"`
	Added        []string `json:"added,omitempty"`
}

// Result is everything a Verifier found in one file.
type Result struct {
	Status     Status
	Signatures []Signature
	PE         *PEInfo
	MachO      *MachOInfo
	Bundle     *BundleInfo
}

// Options configure verification.
type Options struct {
	// Roots are extra trusted roots (from --roots), added to the system pool and, for Apple
	// signatures, to Apple's root.
	Roots *x509.CertPool
	// Now is the time used for chain checks when a signature has no valid timestamp. Zero
	// means time.Now().
	Now time.Time
}

// Input is one file handed to a Verifier.
type Input struct {
	// Path is the file's path as reported (for error messages).
	Path string
	// FS and Name locate the file in its file system, so that a verifier can read related
	// files (a bundle's Info.plist and CodeResources). FS may be nil.
	FS   fs.FS
	Name string
	// R gives random access to the file's bytes; Size is its length.
	R      io.ReaderAt
	Size   int64
	Format hashing.Format
	// Tap is the value returned by the verifier's StreamTap for this file, if it has one.
	Tap Tap
}

// Verifier inspects and verifies the code signatures of one family of formats.
type Verifier interface {
	// Name is a short identifier such as "authenticode" or "macho".
	Name() string
	// Accepts reports whether the verifier handles files of this format.
	Accepts(hashing.Format) bool
	// Verify reads the file's signatures and checks them. An error means the file could not be
	// parsed at all (truncated headers, garbage); a signature that does not verify is not an
	// error but a Signature with StatusInvalid.
	Verify(ctx context.Context, in Input, opts Options) (*Result, error)
}

// A Tap sees a file's bytes once, in order, during the single read that computes its
// whole-file digests; a Verifier uses it to compute its own digests (the Authenticode image
// hash, Mach-O page hashes) without reading the file again.
type Tap interface {
	io.Writer
}

// StreamVerifier is a Verifier that can compute part of its work from the streaming read.
type StreamVerifier interface {
	Verifier
	// StreamTap returns a Tap for a file of this size whose first bytes are head, or nil when
	// the verifier does not need the stream for this file.
	StreamTap(format hashing.Format, head []byte, size int64) Tap
}

// Aggregate derives the file-level status from its signatures: unsigned when there are none,
// invalid when any is invalid (a file carrying a signature that does not verify is never
// trusted, whatever else it carries), adhoc when any is ad-hoc and none is invalid, else valid.
func Aggregate(sigs []Signature) Status {
	if len(sigs) == 0 {
		return StatusUnsigned
	}
	st := StatusValid
	for _, s := range sigs {
		switch s.Status {
		case StatusInvalid:
			return StatusInvalid
		case StatusAdhoc:
			st = StatusAdhoc
		case StatusValid:
		default:
			return StatusInvalid
		}
	}
	return st
}

// BundleVerifier is implemented by verifiers that understand directory bundles (macOS .app
// bundles). Inspect asks every registered BundleVerifier about each directory it walks into;
// a bundle gets a record of its own (format hashing.FormatAppBundle) besides the records of
// the files inside it.
type BundleVerifier interface {
	// IsBundle reports whether dir (a slash-separated path in fsys) is a bundle root.
	IsBundle(fsys fs.FS, dir string) bool
	// VerifyBundle checks the bundle: Info.plist, the main executable's signature, nested
	// code and the sealed resources. Result.Bundle must be set.
	VerifyBundle(ctx context.Context, fsys fs.FS, dir string, opts Options) (*Result, error)
}
