// Package edrpolicy turns an installed application into the smallest safe set of EDR
// exceptions. It inspects files (digests and code signatures), decides per file the strongest
// criterion the user accepts (hash, then signer, then path), and returns a Policy that the
// exporters render as vendor files.
//
// The flow is Inspect → Decide → export; each step is a plain function over plain values, so
// a program can stop after any of them.
package edrpolicy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/jsonout"
	"github.com/edrpolicy/edrpolicy/signers"
)

// SchemaVersion is the version of the JSON documents edrpolicy writes (inspect output and
// policy.json). It changes only when a key is renamed or removed.
const SchemaVersion = 1

// FileEvidence is what Inspect learned about one file. Its JSON form is the contract's
// `inspect --format json` file object.
type FileEvidence struct {
	// Path is the file's path: relative (slash-separated) to the walked directory, or as
	// given for a file argument.
	Path string `json:"path"`
	// Root is the argument the file was found under, when it differs from Path.
	Root string `json:"root,omitempty"`
	Size int64  `json:"size"`
	// Format is pe, macho, macho-universal, app-bundle, elf or other.
	Format hashing.Format `json:"format,omitempty"`
	hashing.Digests
	// Symlink is the link target when the file is a symbolic link (reported, not followed,
	// unless following was asked for).
	Symlink string `json:"symlink,omitempty"`
	// Mode is the file's permission bits in octal, e.g. "0755".
	Mode string `json:"mode,omitempty"`
	// SignatureStatus is unsigned, valid, invalid or adhoc; empty when the file could not be
	// read or is not a code format.
	SignatureStatus signers.Status      `json:"signature_status,omitempty"`
	Signatures      []signers.Signature `json:"signatures,omitempty"`
	PE              *signers.PEInfo     `json:"pe,omitempty"`
	MachO           *signers.MachOInfo  `json:"macho,omitempty"`
	Bundle          *signers.BundleInfo `json:"bundle,omitempty"`
	// Error says why the file could not be read or parsed. Signatures that merely fail to
	// verify are not errors: they have status invalid.
	Error string `json:"error,omitempty"`
	// Fleet is set on evidence merged from many hosts (generate --evidence): how many hosts
	// carry this content at this path. Inspect never sets it.
	Fleet *FleetSeen `json:"fleet,omitempty"`
}

// IsExecutable reports whether the evidence is for a binary code format (PE, Mach-O, an .app
// bundle, or ELF, which is never signed).
func (f *FileEvidence) IsExecutable() bool {
	switch f.Format {
	case hashing.FormatPE, hashing.FormatMachO, hashing.FormatMachOUniversal, hashing.FormatAppBundle, hashing.FormatELF:
		return true
	}
	return false
}

// Inventory is the document `inspect --format json` prints.
type Inventory struct {
	SchemaVersion int `json:"schema_version"`
	// Host names the machine the files were inspected on (inspect --host, default its
	// hostname), so that documents from many hosts can be merged (generate --evidence).
	Host  string         `json:"host,omitempty"`
	Files []FileEvidence `json:"files"`
}

// Failed counts the files that could not be read or parsed.
func (inv *Inventory) Failed() int {
	n := 0
	for i := range inv.Files {
		if inv.Files[i].Error != "" {
			n++
		}
	}
	return n
}

// WriteJSON writes the inventory as indented JSON (two spaces, HTML characters unescaped,
// final newline): byte for byte what jsonout.Indent gives for the whole inventory, but one
// file at a time, so that the output of a walk over hundreds of thousands of files is never
// held in memory twice.
func (inv *Inventory) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "{\n  \"schema_version\": %d,\n", inv.SchemaVersion)
	if inv.Host != "" {
		// Before "files", so that a streaming reader knows the host of every record.
		host, err := jsonout.Compact(inv.Host)
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, "  \"host\": %s,\n", host)
	}
	bw.WriteString("  \"files\": ")
	if inv.Files == nil {
		bw.WriteString("null\n}\n")
		return bw.Flush()
	}
	if len(inv.Files) == 0 {
		bw.WriteString("[]\n}\n")
		return bw.Flush()
	}
	bw.WriteString("[\n")
	var buf bytes.Buffer
	enc := jsonout.Encoder(&buf, "    ")
	for i := range inv.Files {
		buf.Reset()
		if err := enc.Encode(&inv.Files[i]); err != nil {
			return fmt.Errorf("file %s: %w", inv.Files[i].Path, err)
		}
		bw.WriteString("    ")
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		if i < len(inv.Files)-1 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
	}
	bw.WriteString("  ]\n}\n")
	return bw.Flush()
}
