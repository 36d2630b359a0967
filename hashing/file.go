package hashing

import (
	"fmt"
	"io"
)

// FileSum is the result of reading one file.
type FileSum struct {
	Digests
	Format Format
	// Size is the number of bytes read, which equals the expected size.
	Size int64
}

// TapFunc returns the extra writers that should see a file's stream, given its sniffed format,
// its first bytes and its size. It may return nil. head is only valid during the call: a tap
// that needs it later must copy it (it also receives the same bytes through Write).
type TapFunc func(format Format, head []byte, size int64) []io.Writer

// SumFile reads a file of the given size exactly once: its first SniffLen bytes go to Sniff
// (which may use ra for a PE header that lies further in), then the whole stream goes through
// the digests and through the writers taps returns for that format. It fails with
// ErrSizeChanged when the file does not have size bytes (it was written to while being
// read). ra may be nil.
func (h *Hasher) SumFile(r io.Reader, ra io.ReaderAt, size int64, taps TapFunc) (FileSum, error) {
	head := h.buf[:SniffLen]
	m, err := io.ReadFull(r, head)
	switch err {
	case nil, io.EOF, io.ErrUnexpectedEOF:
	default:
		return FileSum{}, err
	}
	head = head[:m]
	format := Sniff(head, ra, size)
	var ws []io.Writer
	if taps != nil {
		ws = taps(format, head, size)
	}
	rest := r
	if m < SniffLen {
		// ReadFull stopped at EOF: there is nothing more to read (a small file costs one
		// read, not two). A file that grew since is caught by the size check below.
		rest = eofReader{}
	}
	d, n, err := h.SumWithHead(head, rest, ws...)
	if err != nil {
		return FileSum{}, err
	}
	if n != size {
		return FileSum{}, fmt.Errorf("%w: expected %d bytes, read %d", ErrSizeChanged, size, n)
	}
	return FileSum{Digests: d, Format: format, Size: n}, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
