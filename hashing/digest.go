package hashing

import (
	"crypto/md5"  // #nosec G501 -- only when a vendor format asks for it
	"crypto/sha1" // #nosec G505 -- only when a vendor format asks for it
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Algorithm names a whole-file digest.
type Algorithm string

// The supported whole-file digests. SHA-256 is always computed; SHA-1 and MD5 only when a
// caller (usually a vendor exporter) asks for them.
const (
	SHA256 Algorithm = "sha256"
	SHA1   Algorithm = "sha1"
	MD5    Algorithm = "md5"
)

// Algorithms is a set of extra digests to compute besides SHA-256.
type Algorithms struct {
	SHA1 bool
	MD5  bool
}

// ParseAlgorithms reads a comma-separated list such as "sha256,sha1,md5". SHA-256 is always
// on, whether listed or not. Unknown names are an error that names them.
func ParseAlgorithms(list string) (Algorithms, error) {
	var a Algorithms
	for _, f := range strings.Split(list, ",") {
		switch Algorithm(strings.ToLower(strings.TrimSpace(f))) {
		case "", SHA256:
		case SHA1:
			a.SHA1 = true
		case MD5:
			a.MD5 = true
		default:
			return a, fmt.Errorf("unknown digest %q (want sha256, sha1 or md5)", strings.TrimSpace(f))
		}
	}
	return a, nil
}

// Digests holds lower-case hex digests of a whole file. Empty fields were not asked for.
type Digests struct {
	SHA256 string `json:"sha256,omitempty"`
	SHA1   string `json:"sha1,omitempty"`
	MD5    string `json:"md5,omitempty"`
}

// BufferSize is the size of the read buffer a Hasher uses: big enough to amortise system
// calls, small enough that N parallel workers stay within a few MiB.
const BufferSize = 256 << 10

// A Hasher computes whole-file digests in one streaming pass. It owns a fixed read buffer and
// its hash states, which it resets between files, so hashing many files allocates nothing per
// file. A Hasher is not safe for concurrent use: give each worker its own.
type Hasher struct {
	algs   Algorithms
	buf    []byte
	sha256 hash.Hash
	sha1   hash.Hash
	md5    hash.Hash
	sums   []byte
}

// NewHasher returns a Hasher for SHA-256 plus the extra algorithms in algs.
func NewHasher(algs Algorithms) *Hasher {
	h := &Hasher{algs: algs, buf: make([]byte, BufferSize), sha256: sha256.New(), sums: make([]byte, 0, sha256.Size)}
	if algs.SHA1 {
		h.sha1 = sha1.New() // #nosec G401
	}
	if algs.MD5 {
		h.md5 = md5.New() // #nosec G401
	}
	return h
}

// Buffer exposes the Hasher's read buffer so that a caller can read a file's head into it
// before handing the rest of the stream to Sum (see SumWithHead).
func (h *Hasher) Buffer() []byte { return h.buf }

// ErrSizeChanged reports that a file did not have the size it was expected to have while it
// was read: it was being written, truncated or appended to.
var ErrSizeChanged = errors.New("file changed size while being read")

// Sum reads r to EOF once and returns its digests and the number of bytes read. Every extra
// writer in taps sees the same bytes in order (for digests that need the stream, such as an
// Authenticode image hash); a tap's error aborts the read.
func (h *Hasher) Sum(r io.Reader, taps ...io.Writer) (Digests, int64, error) {
	return h.SumWithHead(nil, r, taps...)
}

// SumWithHead is Sum for a stream whose first bytes were already read into head (which may
// alias the Hasher's own buffer, see Buffer). head is hashed first, then the rest of r.
func (h *Hasher) SumWithHead(head []byte, r io.Reader, taps ...io.Writer) (Digests, int64, error) {
	h.sha256.Reset()
	if h.sha1 != nil {
		h.sha1.Reset()
	}
	if h.md5 != nil {
		h.md5.Reset()
	}
	var n int64
	write := func(p []byte) error {
		h.sha256.Write(p)
		if h.sha1 != nil {
			h.sha1.Write(p)
		}
		if h.md5 != nil {
			h.md5.Write(p)
		}
		for _, t := range taps {
			if _, err := t.Write(p); err != nil {
				return err
			}
		}
		n += int64(len(p))
		return nil
	}
	if len(head) > 0 {
		if err := write(head); err != nil {
			return Digests{}, n, err
		}
	}
	// head may alias h.buf: it has been consumed above, so the buffer is free again.
	buf := h.buf
	for {
		m, err := r.Read(buf)
		if m > 0 {
			if werr := write(buf[:m]); werr != nil {
				return Digests{}, n, werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Digests{}, n, err
		}
	}
	d := Digests{SHA256: h.hex(h.sha256)}
	if h.sha1 != nil {
		d.SHA1 = h.hex(h.sha1)
	}
	if h.md5 != nil {
		d.MD5 = h.hex(h.md5)
	}
	return d, n, nil
}

func (h *Hasher) hex(x hash.Hash) string {
	h.sums = x.Sum(h.sums[:0])
	return hex.EncodeToString(h.sums)
}

// SumReader is a convenience for one stream: it hashes r with a fresh Hasher.
func SumReader(r io.Reader, algs Algorithms) (Digests, int64, error) {
	return NewHasher(algs).Sum(r)
}
