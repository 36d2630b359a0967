package edrpolicy

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// WriteJSON streams exactly the bytes encoding/json would write for the whole document.
func TestInventoryWriteJSONMatchesEncoder(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	full := &Inventory{SchemaVersion: SchemaVersion, Files: []FileEvidence{
		{Path: "a <&> \"b\"\n.exe", Root: "r", Size: 3, Format: hashing.FormatPE, Digests: hashing.Digests{SHA256: sha("x")},
			SignatureStatus: signers.StatusValid, Signatures: []signers.Signature{{Kind: signers.KindAuthenticode, Status: signers.StatusValid, Timestamp: &ts,
				Signer: &signers.Certificate{Subject: "CN=ü", NotBefore: ts, NotAfter: ts}}},
			PE: &signers.PEInfo{Machine: "amd64", Version: &signers.PEVersion{FileVersion: "1.0"}}},
		{Path: "b", Error: "open b: permission denied"},
		{Path: "c", Symlink: "a", Mode: "0777"},
	}}
	for _, inv := range []*Inventory{full, {SchemaVersion: 1, Files: []FileEvidence{}}, {SchemaVersion: 1}, {SchemaVersion: 1, Files: full.Files[:1]},
		{SchemaVersion: 1, Host: "ws-<0042>&\"x\"", Files: full.Files[:2]}, {SchemaVersion: 1, Host: "h", Files: []FileEvidence{}}} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(inv))
		var got bytes.Buffer
		require.NoError(t, inv.WriteJSON(&got))
		assert.Equal(t, want.String(), got.String())
	}
}
