package testfixtures

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/sassoftware/relic/v7/lib/authenticode"
	"github.com/sassoftware/relic/v7/lib/binpatch"
	"github.com/sassoftware/relic/v7/lib/certloader"
)

// PEVersionInfo is the VS_VERSIONINFO string table PEBuildHello embeds.
type PEVersionInfo struct {
	FileVersion, ProductVersion, CompanyName, ProductName, OriginalFilename string
}

// PEBuildOptions shape PEBuildHello.
type PEBuildOptions struct {
	// Version, when set, is embedded as an RT_VERSION resource (through a generated .syso).
	Version *PEVersionInfo
	// PadBytes, when > 0, embeds that many random bytes in the program (a large .rdata
	// section), for benchmarks on big files.
	PadBytes int
}

// PEBuildHello cross-builds internal/testfixtures/hello for windows/goarch (amd64 gives PE32+,
// 386 gives PE32) with CGO_ENABLED=0 into dir and returns the executable's path.
func PEBuildHello(dir, goarch string, o PEBuildOptions) (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("hello: cannot locate the fixture sources")
	}
	src, err := os.ReadFile(filepath.Join(filepath.Dir(self), "hello", "main.go"))
	if err != nil {
		return "", fmt.Errorf("hello: %w", err)
	}
	work, err := os.MkdirTemp(dir, "hello-src-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	files := map[string][]byte{
		"main.go": src,
		"go.mod":  []byte("module fixture/hello\n\ngo 1.21\n"),
	}
	if o.Version != nil {
		syso, err := PEVersionSyso(goarch, *o.Version)
		if err != nil {
			return "", err
		}
		files["rsrc_windows_"+goarch+".syso"] = syso
	}
	if o.PadBytes > 0 {
		pad := make([]byte, o.PadBytes)
		if _, err := rand.Read(pad); err != nil {
			return "", err
		}
		files["pad.bin"] = pad
		files["pad.go"] = []byte("package main\n\nimport _ \"embed\"\n\n//go:embed pad.bin\nvar pad []byte\n\nfunc init() { if len(pad) == 1 { println(pad[0]) } }\n")
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(work, name), b, 0o600); err != nil {
			return "", err
		}
	}
	out := filepath.Join(dir, fmt.Sprintf("hello-%s-%d.exe", goarch, len(files)))
	if o.PadBytes > 0 {
		out = filepath.Join(dir, fmt.Sprintf("hello-%s-pad%d.exe", goarch, o.PadBytes))
	}
	// `go test` puts its own GOROOT/bin first on the PATH of the processes it starts.
	gobin := "go"
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("hello: go build windows/%s: %w\n%s", goarch, err, b)
	}
	return out, nil
}

// PESignOptions shape PESign.
type PESignOptions struct {
	Hash        crypto.Hash // image digest; default SHA-256
	PageHashes  bool        // add SpcPageHashes (v2 for SHA-256, v1 for SHA-1)
	TSA         *LocalTSA   // add an RFC 3161 timestamp from this in-process TSA
	Description string      // SpcSpOpusInfo program name; default "Fixture"
}

// PESign signs the PE at in with relic under leaf (whose chain is leaf then intermediates;
// the root is not embedded) and writes out, fixing the PE checksum.
func PESign(leaf *KeyPair, intermediates []*x509.Certificate, in, out string, o PESignOptions) error {
	if o.Hash == 0 {
		o.Hash = crypto.SHA256
	}
	if o.Description == "" {
		o.Description = "Fixture"
	}
	cert := &certloader.Certificate{
		Leaf:         leaf.Cert,
		Certificates: append([]*x509.Certificate{leaf.Cert}, intermediates...),
		PrivateKey:   leaf.Key,
	}
	if o.TSA != nil {
		cert.Timestamper = o.TSA
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	d, err := authenticode.DigestPE(f, o.Hash, o.PageHashes)
	if err != nil {
		return fmt.Errorf("%s: digest: %w", in, err)
	}
	patch, _, err := d.Sign(context.Background(), cert, &authenticode.OpusParams{Description: o.Description, URL: "https://fixture.invalid"})
	if err != nil {
		return fmt.Errorf("%s: sign: %w", in, err)
	}
	return applyAndFixChecksum(patch, f, in, out)
}

// applyAndFixChecksum writes the signed file and recomputes its PE checksum.
func applyAndFixChecksum(patch *binpatch.PatchSet, f *os.File, in, out string) error {
	if err := patch.Apply(f, out); err != nil {
		return fmt.Errorf("%s: write %s: %w", in, out, err)
	}
	g, err := os.OpenFile(out, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer g.Close()
	return authenticode.FixPEChecksum(g)
}

// OsslsigncodeOptions shape PESignOsslsigncode.
type OsslsigncodeOptions struct {
	Hash string // "sha1" or "sha256" (default)
	Nest bool   // add as a nested signature to an already-signed file
	// TSA, when set, timestamps through osslsigncode's built-in TSA (-TSA-certs/-TSA-key).
	TSA *KeyPair
	// TSAChain is appended to the TSA's certificate file (usually the CA).
	TSAChain []*x509.Certificate
}

// PESignOsslsigncode signs in with the osslsigncode tool under leaf and writes out (which must
// not exist). It fails when osslsigncode is not installed.
func PESignOsslsigncode(leaf *KeyPair, in, out string, o OsslsigncodeOptions) error {
	tool, err := exec.LookPath("osslsigncode")
	if err != nil {
		return err
	}
	if o.Hash == "" {
		o.Hash = "sha256"
	}
	dir, err := os.MkdirTemp(filepath.Dir(out), "ossl-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	certPath, keyPath := filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf.key")
	if err := leaf.WriteFiles(certPath, keyPath); err != nil {
		return err
	}
	args := []string{"sign", "-certs", certPath, "-key", keyPath, "-h", o.Hash, "-n", "Fixture"}
	if o.Nest {
		args = append(args, "-nest")
	}
	if o.TSA != nil {
		tsaCert, tsaKey := filepath.Join(dir, "tsa.pem"), filepath.Join(dir, "tsa.key")
		if err := o.TSA.WriteFiles(tsaCert, tsaKey); err != nil {
			return err
		}
		chain := o.TSA.CertPEM()
		for _, c := range o.TSAChain {
			chain = append(chain, (&KeyPair{Cert: c}).CertPEM()...)
		}
		if err := os.WriteFile(tsaCert, chain, 0o600); err != nil {
			return err
		}
		args = append(args, "-TSA-certs", tsaCert, "-TSA-key", tsaKey, "-TSA-time", strconv.FormatInt(o.TSA.Cert.NotBefore.Unix()+7200, 10))
	}
	args = append(args, "-in", in, "-out", out)
	cmd := exec.Command(tool, args...)
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "Succeeded") {
		return fmt.Errorf("osslsigncode %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// PEVersionSyso returns a COFF object (.syso) for windows/goarch holding an RT_VERSION resource
// with v, in the form the Go linker merges into the executable's .rsrc section.
func PEVersionSyso(goarch string, v PEVersionInfo) ([]byte, error) {
	var machine, relType uint16
	switch goarch {
	case "amd64":
		machine, relType = 0x8664, 3 // IMAGE_REL_AMD64_ADDR32NB
	case "386":
		machine, relType = 0x14c, 7 // IMAGE_REL_I386_DIR32NB
	case "arm64":
		machine, relType = 0xaa64, 2 // IMAGE_REL_ARM64_ADDR32NB
	default:
		return nil, fmt.Errorf("syso: unsupported goarch %q", goarch)
	}
	blob := peVersionBlob(v)
	// Resource tree: root → type 16 → name 1 → language 0x409 → data entry → blob.
	var rs bytes.Buffer
	dir := func(id uint32, target uint32) {
		var b [24]byte
		binary.LittleEndian.PutUint16(b[14:], 1) // one ID entry
		binary.LittleEndian.PutUint32(b[16:], id)
		binary.LittleEndian.PutUint32(b[20:], target)
		rs.Write(b[:])
	}
	dir(16, 0x80000000|24)
	dir(1, 0x80000000|48)
	dir(0x409, 72)
	dataEntry := rs.Len() // 72
	var de [16]byte
	blobOff := uint32(dataEntry + 16)
	binary.LittleEndian.PutUint32(de[0:], blobOff) // relocated: + section RVA
	binary.LittleEndian.PutUint32(de[4:], uint32(len(blob)))
	rs.Write(de[:])
	rs.Write(blob)
	for rs.Len()%8 != 0 {
		rs.WriteByte(0)
	}
	data := rs.Bytes()

	const fileHdr, secHdr = 20, 40
	dataOff := fileHdr + secHdr
	relOff := dataOff + len(data)
	symOff := relOff + 10
	var out bytes.Buffer
	w := func(v any) { _ = binary.Write(&out, binary.LittleEndian, v) }
	w(machine)
	w(uint16(1))      // NumberOfSections
	w(uint32(0))      // TimeDateStamp
	w(uint32(symOff)) // PointerToSymbolTable
	w(uint32(1))      // NumberOfSymbols
	w(uint16(0))      // SizeOfOptionalHeader
	w(uint16(0))      // Characteristics
	out.WriteString(".rsrc\x00\x00\x00")
	w(uint32(0))          // VirtualSize
	w(uint32(0))          // VirtualAddress
	w(uint32(len(data)))  // SizeOfRawData
	w(uint32(dataOff))    // PointerToRawData
	w(uint32(relOff))     // PointerToRelocations
	w(uint32(0))          // PointerToLinenumbers
	w(uint16(1))          // NumberOfRelocations
	w(uint16(0))          // NumberOfLinenumbers
	w(uint32(0x40000040)) // INITIALIZED_DATA | MEM_READ
	out.Write(data)
	w(uint32(dataEntry)) // relocation: VirtualAddress of the data entry's OffsetToData
	w(uint32(0))         // SymbolTableIndex
	w(relType)
	out.WriteString(".rsrc\x00\x00\x00") // symbol: section .rsrc
	w(uint32(0))                         // Value
	w(int16(1))                          // SectionNumber
	w(uint16(0))                         // Type
	w(uint8(3))                          // IMAGE_SYM_CLASS_STATIC
	w(uint8(0))                          // NumberOfAuxSymbols
	w(uint32(4))                         // empty string table
	return out.Bytes(), nil
}

// peVersionBlob encodes a VS_VERSIONINFO structure.
func peVersionBlob(v PEVersionInfo) []byte {
	u16 := func(s string) []byte {
		var b bytes.Buffer
		for _, c := range utf16.Encode([]rune(s)) {
			_ = binary.Write(&b, binary.LittleEndian, c)
		}
		b.Write([]byte{0, 0})
		return b.Bytes()
	}
	pad := func(b *bytes.Buffer) {
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	node := func(key string, value []byte, text bool, children ...[]byte) []byte {
		var b bytes.Buffer
		b.Write(make([]byte, 6))
		b.Write(u16(key))
		pad(&b)
		b.Write(value)
		for _, c := range children {
			pad(&b)
			b.Write(c)
		}
		out := b.Bytes()
		vlen, typ := len(value), uint16(0)
		if text {
			vlen, typ = len(value)/2, 1
		}
		binary.LittleEndian.PutUint16(out[0:], uint16(len(out)))
		binary.LittleEndian.PutUint16(out[2:], uint16(vlen))
		binary.LittleEndian.PutUint16(out[4:], typ)
		return out
	}
	parse := func(s string) (uint32, uint32) {
		var n [4]uint32
		for i, p := range strings.SplitN(s, ".", 4) {
			x, _ := strconv.Atoi(strings.TrimSpace(strings.Fields(p + " ")[0]))
			n[i] = uint32(x)
		}
		return n[0]<<16 | n[1], n[2]<<16 | n[3]
	}
	fixed := make([]byte, 52)
	binary.LittleEndian.PutUint32(fixed[0:], 0xfeef04bd)
	binary.LittleEndian.PutUint32(fixed[4:], 0x00010000)
	fms, fls := parse(v.FileVersion)
	pms, pls := parse(v.ProductVersion)
	binary.LittleEndian.PutUint32(fixed[8:], fms)
	binary.LittleEndian.PutUint32(fixed[12:], fls)
	binary.LittleEndian.PutUint32(fixed[16:], pms)
	binary.LittleEndian.PutUint32(fixed[20:], pls)
	binary.LittleEndian.PutUint32(fixed[32:], 0x00040004) // VOS_NT_WINDOWS32
	binary.LittleEndian.PutUint32(fixed[36:], 1)          // VFT_APP
	var strs [][]byte
	for _, kv := range [][2]string{
		{"CompanyName", v.CompanyName}, {"FileDescription", "Fixture"}, {"FileVersion", v.FileVersion},
		{"OriginalFilename", v.OriginalFilename}, {"ProductName", v.ProductName}, {"ProductVersion", v.ProductVersion},
	} {
		if kv[1] != "" {
			strs = append(strs, node(kv[0], u16(kv[1]), true))
		}
	}
	table := node("040904B0", nil, true, strs...)
	sfi := node("StringFileInfo", nil, true, table)
	var tr [4]byte
	binary.LittleEndian.PutUint16(tr[0:], 0x0409)
	binary.LittleEndian.PutUint16(tr[2:], 0x04b0)
	vfi := node("VarFileInfo", nil, true, node("Translation", tr[:], false))
	return node("VS_VERSION_INFO", fixed, false, sfi, vfi)
}

// PEAppendSignature writes out: the signed PE at first with the certificate-table entries of
// second appended after its own (each WIN_CERTIFICATE 8-byte aligned), the certificate
// directory's size updated and the PE checksum fixed. second must be the same image signed
// again (with another signer, say): the certificate table is not part of the image digest, so
// every entry stays a valid signature of the image. This is the shape of Debian's shim, which
// has carried one signature by Microsoft's 2011 UEFI CA and one by its 2023 CA.
func PEAppendSignature(first, second, out string) error {
	a, err := os.ReadFile(first)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(second)
	if err != nil {
		return err
	}
	aDir, aOff, aSize, err := peCertTable(a)
	if err != nil {
		return fmt.Errorf("%s: %w", first, err)
	}
	_, bOff, bSize, err := peCertTable(b)
	if err != nil {
		return fmt.Errorf("%s: %w", second, err)
	}
	if !sameImage(a[:aOff], b[:bOff], aDir) {
		return fmt.Errorf("%s and %s are not the same image", first, second)
	}
	if aOff+aSize != len(a) || aOff%8 != 0 {
		return fmt.Errorf("%s: the certificate table is not 8-aligned at the end of the file", first)
	}
	table := append(append([]byte{}, a[aOff:aOff+aSize]...), make([]byte, (8-aSize%8)%8)...)
	table = append(table, b[bOff:bOff+bSize]...)
	outb := append(append([]byte{}, a[:aOff]...), table...)
	binary.LittleEndian.PutUint32(outb[aDir+4:], uint32(len(table)))
	if err := os.WriteFile(out, outb, 0o644); err != nil {
		return err
	}
	g, err := os.OpenFile(out, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer g.Close()
	return authenticode.FixPEChecksum(g)
}

// sameImage reports whether two PE images (without their certificate tables) are the same
// but for what signing changes: the checksum and the certificate directory entry.
func sameImage(a, b []byte, dirOff int) bool {
	if len(a) != len(b) {
		return false
	}
	pe := int(binary.LittleEndian.Uint32(a[0x3c:]))
	a, b = bytes.Clone(a), bytes.Clone(b)
	for _, z := range [][2]int{{pe + 24 + 64, 4}, {dirOff, 8}} {
		clear(a[z[0] : z[0]+z[1]])
		clear(b[z[0] : z[0]+z[1]])
	}
	return bytes.Equal(a, b)
}

// peCertTable returns the file offset of the certificate directory entry and the certificate
// table's offset and size.
func peCertTable(b []byte) (dirOff, off, size int, err error) {
	if len(b) < 0x40 {
		return 0, 0, 0, errors.New("not a PE file")
	}
	pe := int(binary.LittleEndian.Uint32(b[0x3c:]))
	if pe+24+2 > len(b) || string(b[pe:pe+4]) != "PE\x00\x00" {
		return 0, 0, 0, errors.New("not a PE file")
	}
	opt := pe + 24
	switch binary.LittleEndian.Uint16(b[opt:]) {
	case 0x10b:
		dirOff = opt + 96 + 4*8
	case 0x20b:
		dirOff = opt + 112 + 4*8
	default:
		return 0, 0, 0, errors.New("unknown optional header magic")
	}
	if dirOff+8 > len(b) {
		return 0, 0, 0, errors.New("truncated optional header")
	}
	off = int(binary.LittleEndian.Uint32(b[dirOff:]))
	size = int(binary.LittleEndian.Uint32(b[dirOff+4:]))
	if off == 0 || size == 0 || off+size > len(b) {
		return 0, 0, 0, errors.New("no certificate table")
	}
	return dirOff, off, size, nil
}
