package macho

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/edrpolicy/edrpolicy/signers"
)

// This file holds the structural checks of Apple's strict validation (kSecCSStrictValidate:
// `codesign --verify --strict`, and what Gatekeeper asks for, see assessExecute in
// apple-oss-distributions/Security OSX/libsecurity_codesigning/lib/policyengine.cpp) for
// Mach-O files. They catch bytes that no signature covers: data appended after a thin
// file's signature, and payloads hidden in the padding between the slices of a universal
// file. Apple rejects such files with errSecCSBadMainExecutable ("main executable failed
// strict validation", MachORep::strictValidate in machorep.cpp, when the file's MachO or
// Universal object isSuspicious()); so does edrpolicy, with the signature invalid.

// linkeditEnd finds where a thin Mach-O's last structure ends, as Apple's
// MachO::validateStructure (OSX/libsecurity_utilities/lib/macho++.cpp) does: the first of
// the __LINKEDIT segment (fileoff + filesize) and LC_SYMTAB (stroff + strsize, for PPC
// files) in load-command order decides. The code signature is the last part of __LINKEDIT,
// so in a well-formed file this is the end of the file (or of its slice). end is -1 when
// neither command exists (Apple: "invalid structure"); err reports a segment or symtab
// command too short to hold its fields (Apple: ENOEXEC).
func linkeditEnd(cmds []byte, bo binary.ByteOrder, ncmds uint32) (end int64, from string, err error) {
	off := 0
	for i := uint32(0); i < ncmds && off+8 <= len(cmds); i++ {
		cmd, size := bo.Uint32(cmds[off:]), int(bo.Uint32(cmds[off+4:]))
		if size < 8 || size > len(cmds)-off {
			break // parseThin reports it
		}
		c := cmds[off : off+size]
		switch cmd {
		case lcSegment:
			if size < 56 {
				return -1, "", fmt.Errorf("LC_SEGMENT of %d bytes is too short", size)
			}
			if cstr(c[8:24]) == "__LINKEDIT" {
				return int64(bo.Uint32(c[32:])) + int64(bo.Uint32(c[36:])), "__LINKEDIT", nil
			}
		case lcSegment64:
			if size < 72 {
				return -1, "", fmt.Errorf("LC_SEGMENT_64 of %d bytes is too short", size)
			}
			if cstr(c[8:24]) == "__LINKEDIT" {
				fo, fs := bo.Uint64(c[40:]), bo.Uint64(c[48:])
				if fo > 1<<62 || fs > 1<<62 {
					return -1, "", errors.New("__LINKEDIT segment lies beyond any file")
				}
				return int64(fo + fs), "__LINKEDIT", nil
			}
		case lcSymtab:
			if size < 24 {
				return -1, "", fmt.Errorf("LC_SYMTAB of %d bytes is too short", size)
			}
			return int64(bo.Uint32(c[16:])) + int64(bo.Uint32(c[20:])), "LC_SYMTAB", nil
		}
		off += size
	}
	return -1, "", nil
}

// checkLayout applies MachO::validateStructure to one signed slice of size bytes: its
// __LINKEDIT (or LC_SYMTAB) must end exactly at the end of the slice. Anything after it, even
// one zero byte, is not covered by the signature.
func checkLayout(tf *thinFile, size int64) error {
	switch {
	case tf.layoutErr != nil:
		return fmt.Errorf("strict validation: %w", tf.layoutErr)
	case tf.layoutEnd < 0:
		return errors.New("strict validation: no __LINKEDIT segment or LC_SYMTAB: the end of the signed data cannot be established")
	case tf.layoutEnd < size:
		return fmt.Errorf("strict validation: %d bytes after the end of %s (offset %d) are not covered by the signature (appended data)", size-tf.layoutEnd, tf.layoutFrom, tf.layoutEnd)
	case tf.layoutEnd > size:
		return fmt.Errorf("strict validation: %s ends at offset %d, past the end of the data (%d bytes): truncated", tf.layoutFrom, tf.layoutEnd, size)
	}
	return nil
}

// maxFatAlign is Apple's MAX_ALIGN (macho++.cpp): a slice alignment above 2^30 is suspicious.
const maxFatAlign = 30

// checkFatLayout applies the strict checks of Apple's Universal constructor
// (OSX/libsecurity_utilities/lib/macho++.cpp, Universal::Universal) to a universal file:
// with the slices in file order, the bytes between the end of the header (the arch table)
// and the first slice, and between consecutive slices, must all be zero, and a gap between
// slices must be shorter than 2^align of the slice that follows it (align at most 30): the
// padding lipo writes and nothing else. The last slice must end at the end of the file.
// Zero padding is accepted, as Apple accepts it; a payload in a gap, or any byte after the
// last slice (zero or not), is rejected.
func checkFatLayout(r io.ReaderAt, size, headerEnd int64, refs []sliceRef) error {
	sorted := append([]sliceRef(nil), refs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].offset < sorted[j].offset })
	prevEnd := headerEnd
	buf := make([]byte, 64<<10)
	for i, s := range sorted {
		gap := s.offset - prevEnd
		if i > 0 && (s.align > maxFatAlign || gap >= int64(1)<<s.align) {
			return fmt.Errorf("strict validation: %d bytes of padding before slice %s exceed its alignment (2^%d)", gap, s.arch, s.align)
		}
		for done := int64(0); done < gap; {
			chunk := buf[:min(int64(len(buf)), gap-done)]
			if err := readAt(r, chunk, prevEnd+done, size); err != nil {
				return fmt.Errorf("strict validation: reading the padding before slice %s: %w", s.arch, err)
			}
			for j, c := range chunk {
				if c != 0 {
					return fmt.Errorf("strict validation: non-zero byte at offset %d in the padding before slice %s: data outside every slice is not covered by any signature", prevEnd+done+int64(j), s.arch)
				}
			}
			done += int64(len(chunk))
		}
		prevEnd = s.offset + s.size
	}
	if prevEnd != size {
		return fmt.Errorf("strict validation: %d bytes after the last slice (offset %d) are not covered by any signature", size-prevEnd, prevEnd)
	}
	return nil
}

// invalidate marks a signature invalid and adds why to its error.
func invalidate(s *signers.Signature, why string) {
	s.Status = signers.StatusInvalid
	if s.Error == "" {
		s.Error = why
	} else {
		s.Error += "; " + why
	}
}
