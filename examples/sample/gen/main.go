// Command gen writes the edrpolicy sample install: tiny PE and Mach-O files signed under a
// throwaway "edrpolicy sample CA", laid out like the code42 profile's CrashPlan 11.x Windows
// and Mac trees, plus an upgrade (v2) with changed files and a renewed signer certificate.
//
// NOTHING HERE IS REAL: the signer is not CrashPlan, Code42 or Apple, the CA is not trusted
// anywhere, and the binaries do nothing (a `ret` and a notice string). The private keys in
// sample-keys.pem are committed on purpose, are NOT SECRET and sign nothing but this sample.
//
// Run it with `go generate ./examples/sample` (or `go run ./gen` in examples/sample). The
// output is byte-identical on every run: the keys are fixed, every certificate field and
// signing time is fixed, RSA PKCS#1 v1.5 signatures are deterministic and no timestamp
// authority is used. -new-keys makes new keys (then every file changes).
package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/sassoftware/relic/v7/lib/pkcs7"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
)

func main() {
	out := flag.String("out", ".", "directory to write ca.pem, windows/, mac/ and v2/ into")
	keys := flag.String("keys", filepath.Join("gen", "sample-keys.pem"), "PEM file of the sample keys (NOT SECRET)")
	newKeys := flag.Bool("new-keys", false, "generate new sample keys into -keys first (changes every file)")
	flag.Parse()
	if *newKeys {
		if err := writeNewKeys(*keys); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
	if err := Generate(*out, *keys); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// keyNames are the sample keys, one PEM block each, in this order.
var keyNames = []string{"ca", "win-signer-v1", "win-signer-v2", "apple-ca", "apple-signer-v1", "apple-signer-v2"}

func writeNewKeys(file string) error {
	var buf bytes.Buffer
	buf.WriteString("# edrpolicy SAMPLE keys: NOT SECRET, committed on purpose. They sign only the sample\n# install in examples/sample; never trust ca.pem outside tests and demos.\n")
	for _, name := range keyNames {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return err
		}
		if err := pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Name": name, "Note": "edrpolicy sample key, NOT SECRET"}, Bytes: der}); err != nil {
			return err
		}
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}

func readKeys(file string) (map[string]*rsa.PrivateKey, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("sample keys: %w (run with -new-keys to create them)", err)
	}
	out := map[string]*rsa.PrivateKey{}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: key %q: %w", file, b.Headers["Name"], err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: key %q is not RSA", file, b.Headers["Name"])
		}
		out[b.Headers["Name"]] = rk
	}
	for _, n := range keyNames {
		if out[n] == nil {
			return nil, fmt.Errorf("%s: no key named %q", file, n)
		}
	}
	return out, nil
}

// Sample identities. "EDRSAMPLE1" is not a real Apple Team ID.
const (
	sampleOrg     = "edrpolicy sample (NOT a real vendor)"
	sampleTeamID  = "EDRSAMPLE1"
	sampleCompany = "CrashPlan sample for edrpolicy (NOT real CrashPlan)"
	sampleBundle  = "com.example.edrpolicy-sample.crashplan"
	v1, v2        = "11.1.0", "11.2.0"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// pki is the sample CA, its Apple-style intermediate and two generations of each leaf.
type pki struct {
	ca, appleCA          *testfixtures.KeyPair
	win1, win2           *testfixtures.KeyPair
	apple1, apple2       *testfixtures.KeyPair
	appleKey1, appleKey2 *rsa.PrivateKey
}

func issue(tmpl *x509.Certificate, parent *testfixtures.KeyPair, key *rsa.PrivateKey) (*testfixtures.KeyPair, error) {
	pc, pk := tmpl, crypto.Signer(key)
	if parent != nil {
		pc, pk = parent.Cert, parent.Key
	}
	// rand is only used for RSA blinding; PKCS#1 v1.5 signatures are deterministic.
	der, err := x509.CreateCertificate(rand.Reader, tmpl, pc, key.Public(), pk)
	if err != nil {
		return nil, fmt.Errorf("certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &testfixtures.KeyPair{Cert: c, Key: key}, nil
}

func newPKI(keys map[string]*rsa.PrivateKey) (*pki, error) {
	null := []byte{0x05, 0x00}
	p := &pki{appleKey1: keys["apple-signer-v1"], appleKey2: keys["apple-signer-v2"]}
	var err error
	if p.ca, err = issue(&x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "edrpolicy sample CA (NOT REAL, do not trust)", Organization: []string{sampleOrg}},
		NotBefore:    day(2025, 1, 1), NotAfter: day(2049, 12, 31),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, keys["ca"]); err != nil {
		return nil, err
	}
	win := func(serial int64, from, to time.Time, key *rsa.PrivateKey) (*testfixtures.KeyPair, error) {
		return issue(&x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: "edrpolicy sample signer (NOT CrashPlan)", Organization: []string{sampleOrg}, Country: []string{"US"}},
			NotBefore:    from, NotAfter: to,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		}, p.ca, key)
	}
	// v2 is a renewal: same subject, new key, serial and validity.
	if p.win1, err = win(0x1001, day(2025, 1, 1), day(2045, 1, 1), keys["win-signer-v1"]); err != nil {
		return nil, err
	}
	if p.win2, err = win(0x1002, day(2026, 1, 1), day(2046, 1, 1), keys["win-signer-v2"]); err != nil {
		return nil, err
	}
	if p.appleCA, err = issue(&x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "edrpolicy sample Developer ID CA (NOT Apple)", Organization: []string{sampleOrg}, OrganizationalUnit: []string{"G2"}},
		NotBefore:    day(2025, 1, 1), NotAfter: day(2049, 12, 31),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtraExtensions: []pkix.Extension{{Id: testfixtures.AppleOIDDeveloperIDCA, Value: null}},
	}, p.ca, keys["apple-ca"]); err != nil {
		return nil, err
	}
	apple := func(serial int64, from, to time.Time, key *rsa.PrivateKey) (*testfixtures.KeyPair, error) {
		return issue(&x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject: pkix.Name{
				CommonName:         "Developer ID Application: edrpolicy sample, NOT CrashPlan (" + sampleTeamID + ")",
				Organization:       []string{sampleOrg},
				OrganizationalUnit: []string{sampleTeamID},
				Country:            []string{"US"},
			},
			NotBefore: from, NotAfter: to,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
			ExtraExtensions: []pkix.Extension{{Id: testfixtures.AppleOIDDeveloperIDApplication, Critical: true, Value: null}},
		}, p.appleCA, key)
	}
	if p.apple1, err = apple(0x2001, day(2025, 1, 1), day(2045, 1, 1), p.appleKey1); err != nil {
		return nil, err
	}
	if p.apple2, err = apple(0x2002, day(2026, 1, 1), day(2046, 1, 1), p.appleKey2); err != nil {
		return nil, err
	}
	return p, nil
}

// Generate writes ca.pem, windows/, mac/ and v2/{windows,mac}/ under out, replacing what a
// previous run wrote there.
func Generate(out, keyFile string) error {
	keys, err := readKeys(keyFile)
	if err != nil {
		return err
	}
	p, err := newPKI(keys)
	if err != nil {
		return err
	}
	if err := resetOut(out, p); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "edrpolicy-sample-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := writeWindows(out, work, p); err != nil {
		return err
	}
	return writeMac(out, work, p)
}

// resetOut removes what a previous run wrote under out and writes ca.pem.
func resetOut(out string, p *pki) error {
	for _, d := range []string{"windows", "mac", "v2"} {
		if err := os.RemoveAll(filepath.Join(out, d)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "ca.pem"), p.ca.CertPEM(), 0o644)
}

// peFile is a sample PE file: its path under the tree, its version (none: no version
// resource), whether it is a DLL, and its signer (signed only).
type peFile struct {
	rel, version string
	dll, signed  bool
	leaf         *testfixtures.KeyPair
}

// writeWindows writes windows/ and v2/windows/. Windows 11.1.0: two executables and a DLL
// signed by the v1 certificate, one unsigned uninstaller. 11.2.0: new builds of the
// executables signed by the renewed certificate; the DLL and the uninstaller are unchanged.
func writeWindows(out, work string, p *pki) error {
	trees := []struct {
		dir   string
		files []peFile
	}{
		{filepath.Join(out, "windows"), []peFile{
			{"CrashPlanService.exe", v1, false, true, p.win1},
			{"CrashPlanNative.dll", v1, true, true, p.win1},
			{"electron/CrashPlanDesktop.exe", v1, false, true, p.win1},
			{"Uninstall.exe", "", false, false, nil},
		}},
		{filepath.Join(out, "v2", "windows"), []peFile{
			{"CrashPlanService.exe", v2, false, true, p.win2},
			{"CrashPlanNative.dll", v1, true, true, p.win1},
			{"electron/CrashPlanDesktop.exe", v2, false, true, p.win2},
			{"Uninstall.exe", "", false, false, nil},
		}},
	}
	for _, t := range trees {
		for _, f := range t.files {
			if err := writePE(filepath.Join(t.dir, filepath.FromSlash(f.rel)), work, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// writePE builds f and writes it to dst, signed when f is (through an unsigned copy in work).
func writePE(dst, work string, f peFile) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	img, err := buildPE(filepath.Base(f.rel), f.version, f.dll)
	if err != nil {
		return fmt.Errorf("%s: %w", dst, err)
	}
	if !f.signed {
		return os.WriteFile(dst, img, 0o755)
	}
	unsigned := filepath.Join(work, "unsigned.bin")
	if err := os.WriteFile(unsigned, img, 0o644); err != nil {
		return err
	}
	if err := testfixtures.PESign(f.leaf, nil, unsigned, dst, testfixtures.PESignOptions{Description: "edrpolicy sample (NOT CrashPlan)"}); err != nil {
		return fmt.Errorf("%s: %w", dst, err)
	}
	return os.Chmod(dst, 0o755)
}

// writeMac writes mac/ and v2/mac/: CrashPlan.app 11.1.0 signed by the v1 Developer ID leaf;
// 11.2.0 a new build signed by the renewed leaf (same Team ID).
func writeMac(out, work string, p *pki) error {
	for _, m := range []macApp{
		{filepath.Join(out, "mac"), v1, p.apple1, p.appleKey1, day(2026, 1, 15)},
		{filepath.Join(out, "v2", "mac"), v2, p.apple2, p.appleKey2, day(2026, 3, 15)},
	} {
		if err := writeMacApp(m, work, p); err != nil {
			return err
		}
	}
	return nil
}

// macApp is a sample CrashPlan.app: the folder it goes in, its version, its signer and
// signing time.
type macApp struct {
	dir, version string
	leaf         *testfixtures.KeyPair
	key          *rsa.PrivateKey
	signingTime  time.Time
}

// writeMacApp builds m's executable (in work), signs the bundle under m.dir and fixes the
// signing time.
func writeMacApp(m macApp, work string, p *pki) error {
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return err
	}
	exe := filepath.Join(work, "macho-"+m.version)
	if err := os.WriteFile(exe, buildMachO(m.version), 0o755); err != nil {
		return err
	}
	chain := &testfixtures.AppleChain{Root: p.ca.Cert, Intermediate: p.appleCA.Cert, Leaf: m.leaf.Cert, LeafKey: m.key, TeamID: sampleTeamID}
	app, err := testfixtures.MachOBundle(chain, m.dir, testfixtures.MachOBundleSpec{
		Name: "CrashPlan", Identifier: sampleBundle, ShortVersion: m.version, Build: m.version, Executable: exe,
		Resources: map[string]string{
			"Resources/NOTICE.txt": "edrpolicy SAMPLE bundle " + m.version + ": NOT CrashPlan. Signed by the throwaway edrpolicy sample CA (examples/sample/ca.pem).\n",
		},
	})
	if err != nil {
		return fmt.Errorf("%s: %w", m.dir, err)
	}
	return fixSigningTime(filepath.Join(app, "Contents", "MacOS", "CrashPlan"), m.key, m.signingTime)
}

// notice is the text every sample binary carries.
func notice(name, version string) []byte {
	if version == "" {
		version = "unversioned"
	}
	return []byte(fmt.Sprintf("edrpolicy SAMPLE %s %s: NOT real CrashPlan software, signed by a throwaway sample CA\x00", name, version))
}

// The sample PE layout: file and section alignment, and the size of the headers.
const (
	peFileAlign = 0x200
	peSectAlign = 0x1000
	peHdrSize   = 0x200
)

// alignUp rounds n up to a multiple of a.
func alignUp(n, a int) int { return (n + a - 1) / a * a }

// buildPE returns a minimal PE32+ (x86-64) image: headers, a .text section holding `xor
// eax,eax; ret` and the notice, and, when version is set, a .rsrc section with a
// VS_VERSIONINFO (taken from the COFF object testfixtures.PEVersionSyso builds).
func buildPE(name, version string, dll bool) ([]byte, error) {
	text := append([]byte{0x31, 0xc0, 0xc3}, notice(name, version)...)
	rsrc, err := peVersionResources(name, version)
	if err != nil {
		return nil, err
	}
	nsec := 1
	if rsrc != nil {
		nsec = 2
	}
	textRaw := alignUp(len(text), peFileAlign)
	rsrcRaw := alignUp(len(rsrc), peFileAlign)
	img := make([]byte, peHdrSize+textRaw+rsrcRaw)
	le := binary.LittleEndian
	copy(img, "MZ")
	le.PutUint32(img[0x3c:], 0x40)
	copy(img[0x40:], "PE\x00\x00")
	putCOFFHeader(img[0x44:], nsec, dll)
	putOptionalHeader(img[0x58:], nsec, textRaw, rsrcRaw, len(rsrc), dll)
	putSection(img, 0, ".text", len(text), peSectAlign, textRaw, peHdrSize, 0x60000020)
	copy(img[peHdrSize:], text)
	if rsrc != nil {
		putSection(img, 1, ".rsrc", len(rsrc), 2*peSectAlign, rsrcRaw, peHdrSize+textRaw, 0x40000040)
		copy(img[peHdrSize+textRaw:], rsrc)
	}
	return img, nil
}

// peVersionResources returns the .rsrc section data (at the third page) of a
// VS_VERSIONINFO for the file name and version; nil when version is empty.
func peVersionResources(name, version string) ([]byte, error) {
	if version == "" {
		return nil, nil
	}
	syso, err := testfixtures.PEVersionSyso("amd64", testfixtures.PEVersionInfo{
		FileVersion: version + ".0", ProductVersion: version, CompanyName: sampleCompany,
		ProductName: "CrashPlan (edrpolicy sample)", OriginalFilename: name,
	})
	if err != nil {
		return nil, err
	}
	return sysoResources(syso, 2*peSectAlign)
}

// putCOFFHeader writes the COFF file header of an x86-64 image (or DLL) of nsec sections.
func putCOFFHeader(coff []byte, nsec int, dll bool) {
	le := binary.LittleEndian
	le.PutUint16(coff[0:], 0x8664)
	le.PutUint16(coff[2:], uint16(nsec))
	le.PutUint16(coff[16:], 240)
	chars := uint16(0x0022) // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE
	if dll {
		chars |= 0x2000
	}
	le.PutUint16(coff[18:], chars)
}

// putOptionalHeader writes the PE32+ optional header: code and data sizes, entry point at
// the start of .text, image base, layout, console subsystem, and the resource directory
// when there is a .rsrc section (rsrcLen bytes).
func putOptionalHeader(opt []byte, nsec, textRaw, rsrcRaw, rsrcLen int, dll bool) {
	le := binary.LittleEndian
	le.PutUint16(opt[0:], 0x20b)
	opt[2] = 14
	le.PutUint32(opt[4:], uint32(textRaw))
	le.PutUint32(opt[8:], uint32(rsrcRaw))
	le.PutUint32(opt[16:], peSectAlign) // entry point: the start of .text
	le.PutUint32(opt[20:], peSectAlign)
	base := uint64(0x140000000)
	if dll {
		base = 0x180000000
	}
	le.PutUint64(opt[24:], base)
	le.PutUint32(opt[32:], peSectAlign)
	le.PutUint32(opt[36:], peFileAlign)
	le.PutUint16(opt[40:], 6)
	le.PutUint16(opt[48:], 6)
	le.PutUint32(opt[56:], uint32(peSectAlign*(1+nsec)))
	le.PutUint32(opt[60:], peHdrSize)
	le.PutUint16(opt[68:], 3)      // console subsystem
	le.PutUint16(opt[70:], 0x8160) // high-entropy VA, dynamic base, NX, terminal-server aware
	le.PutUint64(opt[72:], 0x100000)
	le.PutUint64(opt[80:], 0x1000)
	le.PutUint64(opt[88:], 0x100000)
	le.PutUint64(opt[96:], 0x1000)
	le.PutUint32(opt[108:], 16)
	if rsrcLen > 0 {
		le.PutUint32(opt[112+2*8:], 2*peSectAlign)
		le.PutUint32(opt[112+2*8+4:], uint32(rsrcLen))
	}
}

// putSection writes section header i of img.
func putSection(img []byte, i int, name string, size, rva, raw, ptr int, ch uint32) {
	le := binary.LittleEndian
	s := img[0x148+40*i:]
	copy(s, name)
	le.PutUint32(s[8:], uint32(size))
	le.PutUint32(s[12:], uint32(rva))
	le.PutUint32(s[16:], uint32(raw))
	le.PutUint32(s[20:], uint32(ptr))
	le.PutUint32(s[36:], ch)
}

// sysoResources returns the .rsrc section data of a COFF object from PEVersionSyso, with its
// one relocation (the data entry's RVA) applied for a section at rva.
func sysoResources(syso []byte, rva int) ([]byte, error) {
	le := binary.LittleEndian
	if len(syso) < 60 || le.Uint16(syso[2:]) != 1 {
		return nil, errors.New("version resource: not a one-section COFF object")
	}
	size, ptr, rel := int(le.Uint32(syso[36:])), int(le.Uint32(syso[40:])), int(le.Uint32(syso[44:]))
	if ptr+size > len(syso) || rel+10 > len(syso) || le.Uint16(syso[52:]) != 1 {
		return nil, errors.New("version resource: malformed COFF object")
	}
	data := append([]byte(nil), syso[ptr:ptr+size]...)
	at := int(le.Uint32(syso[rel:]))
	if at+4 > len(data) {
		return nil, errors.New("version resource: relocation out of range")
	}
	le.PutUint32(data[at:], le.Uint32(data[at:])+uint32(rva))
	return data, nil
}

// buildMachO returns a minimal thin arm64 Mach-O executable: a __TEXT segment with one
// __text section (`ret` and the notice) and a small __LINKEDIT segment, with room left for
// the LC_CODE_SIGNATURE command the signer adds.
func buildMachO(version string) []byte {
	le := binary.LittleEndian
	code := append([]byte{0xc0, 0x03, 0x5f, 0xd6}, notice("CrashPlan", version)...) // ret
	const textOff = 0x200
	textEnd := textOff + len(code)
	linkOff := (textEnd + 15) &^ 15
	linkedit := []byte("edrpolicy sample\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	img := make([]byte, linkOff+len(linkedit))
	le.PutUint32(img[0:], 0xfeedfacf)
	le.PutUint32(img[4:], 0x0100000c) // CPU_TYPE_ARM64
	le.PutUint32(img[12:], 2)         // MH_EXECUTE
	le.PutUint32(img[16:], 2)         // ncmds
	le.PutUint32(img[20:], 152+72)    // sizeofcmds
	le.PutUint32(img[24:], 0x00200085)
	seg := func(off int, name string, size uint32, vmaddr, vmsize, fileoff, filesize uint64, prot, nsects uint32) {
		le.PutUint32(img[off:], 0x19) // LC_SEGMENT_64
		le.PutUint32(img[off+4:], size)
		copy(img[off+8:off+24], name)
		le.PutUint64(img[off+24:], vmaddr)
		le.PutUint64(img[off+32:], vmsize)
		le.PutUint64(img[off+40:], fileoff)
		le.PutUint64(img[off+48:], filesize)
		le.PutUint32(img[off+56:], prot)
		le.PutUint32(img[off+60:], prot)
		le.PutUint32(img[off+64:], nsects)
	}
	const vmbase = 0x100000000
	seg(32, "__TEXT", 152, vmbase, 0x4000, 0, uint64(textEnd), 5, 1)
	s := img[32+72:]
	copy(s[0:16], "__text")
	copy(s[16:32], "__TEXT")
	le.PutUint64(s[32:], vmbase+textOff)
	le.PutUint64(s[40:], uint64(len(code)))
	le.PutUint32(s[48:], textOff)
	le.PutUint32(s[52:], 2)          // align 2^2
	le.PutUint32(s[64:], 0x80000400) // S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS
	seg(32+152, "__LINKEDIT", 72, vmbase+0x4000, 0x4000, uint64(linkOff), uint64(len(linkedit)), 1, 0)
	copy(img[textOff:], code)
	copy(img[linkOff:], linkedit)
	return img
}

// oidSigningTime is the CMS signingTime attribute.
var oidSigningTime = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}

// fixSigningTime replaces the CMS signingTime that relic's Mach-O signer sets to the current
// time with at, and re-signs the signed attributes with key, in place (same length): the
// CodeDirectory, and so the CDHash, does not cover the CMS blob.
func fixSigningTime(file string, key *rsa.PrivateKey, at time.Time) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	cms, err := cmsBlob(b)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	psd, err := pkcs7.Unmarshal(cms)
	if err != nil {
		return fmt.Errorf("%s: CMS: %w", file, err)
	}
	si := &psd.Content.SignerInfos[0]
	var old time.Time
	if err := si.AuthenticatedAttributes.GetOne(oidSigningTime, &old); err != nil {
		return fmt.Errorf("%s: CMS signing time: %w", file, err)
	}
	oldDER, err := asn1.Marshal(old.UTC())
	if err != nil {
		return err
	}
	newDER, err := asn1.Marshal(at.UTC())
	if err != nil {
		return err
	}
	if len(oldDER) != len(newDER) || bytes.Count(cms, oldDER) != 1 {
		return fmt.Errorf("%s: CMS signing time not found exactly once", file)
	}
	copy(cms[bytes.Index(cms, oldDER):], newDER)
	psd, err = pkcs7.Unmarshal(cms)
	if err != nil {
		return fmt.Errorf("%s: CMS: %w", file, err)
	}
	si = &psd.Content.SignerInfos[0]
	attrs, err := si.AuthenticatedAttributesBytes()
	if err != nil {
		return err
	}
	digest := sha256.Sum256(attrs)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return err
	}
	if len(sig) != len(si.EncryptedDigest) || bytes.Count(cms, si.EncryptedDigest) != 1 {
		return fmt.Errorf("%s: CMS signature not found exactly once", file)
	}
	copy(cms[bytes.Index(cms, si.EncryptedDigest):], sig)
	return os.WriteFile(file, b, 0o755)
}

// cmsBlob returns the CMS signature inside a signed thin Mach-O, as a slice of b.
func cmsBlob(b []byte) ([]byte, error) {
	le, be := binary.LittleEndian, binary.BigEndian
	if len(b) < 32 || le.Uint32(b) != 0xfeedfacf {
		return nil, errors.New("not a thin 64-bit Mach-O")
	}
	off := 32
	for i := 0; i < int(le.Uint32(b[16:])) && off+16 <= len(b); i++ {
		cmd, size := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if cmd == 0x1d {
			so, sn := int(le.Uint32(b[off+8:])), int(le.Uint32(b[off+12:]))
			if so+sn > len(b) || sn < 12 {
				return nil, errors.New("code signature out of range")
			}
			sb := b[so : so+sn]
			for j := 0; j < int(be.Uint32(sb[8:])) && 20+8*j <= len(sb); j++ {
				if be.Uint32(sb[12+8*j:]) != 0x10000 {
					continue
				}
				bo := int(be.Uint32(sb[16+8*j:]))
				if bo+8 > len(sb) || be.Uint32(sb[bo:]) != 0xfade0b01 {
					return nil, errors.New("CMS blob malformed")
				}
				n := int(be.Uint32(sb[bo+4:]))
				if bo+n > len(sb) {
					return nil, errors.New("CMS blob out of range")
				}
				return sb[bo+8 : bo+n], nil
			}
			return nil, errors.New("no CMS blob in the code signature")
		}
		off += size
	}
	return nil, errors.New("no LC_CODE_SIGNATURE")
}

// Files lists the files under dir (slash-separated, relative, sorted): what Generate
// writes, for comparisons.
func Files(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(out)
	return out, err
}
