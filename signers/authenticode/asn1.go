package authenticode

import (
	"crypto/x509/pkix"
	"encoding/asn1"
)

// ASN.1 structures of the Authenticode PE specification ("Windows Authenticode Portable
// Executable Signature Format", Microsoft). They are declared here rather than taken from
// relic's lib/authenticode because that package imports relic's key loader, whose keyring
// dependency has no build for windows/arm64; edrpolicy must cross-compile there.
var (
	oidSpcIndirectDataContent = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}
	oidSpcPageHashV1          = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 3, 1} // SHA-1 page hashes
	oidSpcPageHashV2          = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 3, 2} // SHA-256 page hashes
	// spcUUIDPageHashes is the class id of the SpcSerializedObject that carries page hashes.
	spcUUIDPageHashes = []byte{0xa6, 0xb5, 0x86, 0xd5, 0xb4, 0xa1, 0x24, 0x66, 0xae, 0x05, 0xa2, 0x17, 0xda, 0x8e, 0x60, 0xd6}
)

// spcIndirectDataContentPe is the signed content of a PE signature: the image digest.
type spcIndirectDataContentPe struct {
	Data          spcAttributePeImageData
	MessageDigest digestInfo
}

type spcAttributePeImageData struct {
	Type  asn1.ObjectIdentifier
	Value spcPeImageData `asn1:"optional"`
}

type digestInfo struct {
	DigestAlgorithm pkix.AlgorithmIdentifier
	Digest          []byte
}

type spcPeImageData struct {
	Flags asn1.BitString
	File  spcLink `asn1:"tag:0"`
}

type spcLink struct {
	URL     string              `asn1:"optional,tag:0,ia5"`
	Moniker spcSerializedObject `asn1:"optional,tag:1"`
	File    spcString           `asn1:"optional,tag:2"`
}

type spcString struct {
	Unicode []byte `asn1:"optional,tag:0"` // BMPString
	ASCII   string `asn1:"optional,tag:1,ia5"`
}

type spcSerializedObject struct {
	ClassID        []byte
	SerializedData []byte
}

type spcAttributePageHashes struct {
	Type   asn1.ObjectIdentifier
	Hashes [][]byte `asn1:"set"`
}
