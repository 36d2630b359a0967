package hashing

import (
	"encoding/binary"
	"io"
)

// Format is the container format of a file as far as code signing is concerned.
type Format string

// The formats edrpolicy tells apart. The string values are part of the JSON contract.
const (
	FormatPE             Format = "pe"              // PE/COFF (Windows executables, DLLs, EFI images)
	FormatMachO          Format = "macho"           // a thin Mach-O (one architecture)
	FormatMachOUniversal Format = "macho-universal" // a universal ("fat") Mach-O
	FormatELF            Format = "elf"             // ELF (Linux executables and libraries; never signed)
	FormatOther          Format = "other"           // anything else, including Java .class files
	FormatAppBundle      Format = "app-bundle"      // a macOS .app directory (never returned by Sniff)
)

// SniffLen is how many leading bytes Sniff wants in head to decide without further reads
// (more is fine; less makes Sniff fall back to r).
const SniffLen = 4096

// Mach-O and fat magics, as read big-endian from the first four bytes.
const (
	machoMagic32BE = 0xfeedface
	machoMagic64BE = 0xfeedfacf
	machoMagic32LE = 0xcefaedfe
	machoMagic64LE = 0xcffaedfe
	fatMagic       = 0xcafebabe
	fatMagic64     = 0xcafebabf
)

// maxFatArchs bounds nfat_arch for a universal binary. Real files have a handful of slices.
// A Java class file shares the 0xCAFEBABE magic, but its next four bytes are
// minor_version<<16 | major_version with major_version >= 45 (JDK 1.1), so any value
// below 45 cannot be a class file; the fat_arch table is then checked against the file size.
const maxFatArchs = 44

// Sniff tells the format of a file from its first bytes. head holds the first bytes of the
// file (ideally SniffLen of them); r, when not nil, is used for bytes beyond head (the PE
// signature of a file whose e_lfanew points past head, or a long fat_arch table). size is the
// file size. Every offset read from the file is bounds-checked against size; Sniff never
// allocates according to a size field.
func Sniff(head []byte, r io.ReaderAt, size int64) Format {
	at := func(off int64, n int) []byte {
		if off < 0 || off+int64(n) > size {
			return nil
		}
		if off+int64(n) <= int64(len(head)) {
			return head[off : off+int64(n)]
		}
		if r == nil {
			return nil
		}
		b := make([]byte, n)
		if _, err := r.ReadAt(b, off); err != nil {
			return nil
		}
		return b
	}
	first := at(0, 4)
	if first == nil {
		return FormatOther
	}
	if first[0] == 'M' && first[1] == 'Z' {
		lf := at(0x3c, 4)
		if lf == nil {
			return FormatOther
		}
		peOff := int64(binary.LittleEndian.Uint32(lf))
		if sig := at(peOff, 4); sig != nil && string(sig) == "PE\x00\x00" {
			return FormatPE
		}
		return FormatOther
	}
	if string(first) == "\x7fELF" {
		// ident (16) + type, machine, version: an ELF header is at least 52 bytes.
		if at(0, 52) != nil {
			return FormatELF
		}
		return FormatOther
	}
	switch binary.BigEndian.Uint32(first) {
	case machoMagic32BE, machoMagic64BE, machoMagic32LE, machoMagic64LE:
		// A Mach-O header is 28 (32-bit) or 32 (64-bit) bytes; anything shorter is not one.
		if at(0, 28) != nil {
			return FormatMachO
		}
	case fatMagic, fatMagic64:
		if isFat(at, binary.BigEndian.Uint32(first) == fatMagic64, size) {
			return FormatMachOUniversal
		}
	}
	return FormatOther
}

// isFat checks a 0xCAFEBABE/0xCAFEBABF header: a plausible slice count (which rules out Java
// class files) and slices that lie inside the file.
func isFat(at func(int64, int) []byte, is64 bool, size int64) bool {
	hdr := at(4, 4)
	if hdr == nil {
		return false
	}
	n := binary.BigEndian.Uint32(hdr)
	if n == 0 || n > maxFatArchs {
		return false
	}
	entry := 20
	if is64 {
		entry = 32
	}
	tbl := at(8, int(n)*entry)
	if tbl == nil {
		return false
	}
	for i := 0; i < int(n); i++ {
		e := tbl[i*entry:]
		var off, sz uint64
		if is64 {
			off, sz = binary.BigEndian.Uint64(e[8:]), binary.BigEndian.Uint64(e[16:])
		} else {
			off, sz = uint64(binary.BigEndian.Uint32(e[8:])), uint64(binary.BigEndian.Uint32(e[12:]))
		}
		if sz == 0 || off < uint64(8+int(n)*entry) || off > uint64(size) || sz > uint64(size)-off {
			return false
		}
	}
	return true
}
