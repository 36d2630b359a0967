package authenticode

import (
	"crypto"
	"crypto/hmac"
	_ "crypto/md5"  // #nosec G501 -- legacy Authenticode digests must be checkable
	_ "crypto/sha1" // #nosec G505
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// digester feeds the ranges of a digest plan to a set of hashes. It is used both as a stream
// tap (Write sees the whole file in order) and, through digestAt, with random access.
type digester struct {
	plan   []region
	pad    int64
	hashes map[crypto.Hash]hash.Hash
	ri     int   // index of the first plan region not yet fully hashed
	pos    int64 // file offset of the next byte Write will see
}

func newDigester(plan []region, pad int64, algs []crypto.Hash) *digester {
	d := &digester{plan: plan, pad: pad, hashes: make(map[crypto.Hash]hash.Hash, len(algs))}
	for _, a := range algs {
		if a.Available() {
			d.hashes[a] = a.New()
		}
	}
	return d
}

func (d *digester) write(p []byte) {
	for _, h := range d.hashes {
		h.Write(p)
	}
}

// feed consumes p, the file bytes starting at d.pos; the plan must be monotonic.
func (d *digester) feed(p []byte) {
	start := d.pos
	end := start + int64(len(p))
	for d.ri < len(d.plan) {
		r := d.plan[d.ri]
		if r.off >= end {
			break
		}
		lo, hi := max(r.off, start), min(r.off+r.n, end)
		if lo < hi {
			d.write(p[lo-start : hi-start])
		}
		if r.off+r.n > end {
			break
		}
		d.ri++
	}
	d.pos = end
}

// sums finishes the digests (after the zero padding) and returns them by algorithm.
func (d *digester) sums() map[crypto.Hash][]byte {
	if d.pad > 0 {
		d.write(make([]byte, d.pad)) // pad < 8
	}
	out := make(map[crypto.Hash][]byte, len(d.hashes))
	for a, h := range d.hashes {
		out[a] = h.Sum(nil)
	}
	return out
}

// digestAt computes the image digests with random access, reading only the planned ranges.
func digestAt(r io.ReaderAt, plan []region, pad int64, algs []crypto.Hash, buf []byte) (map[crypto.Hash][]byte, error) {
	d := newDigester(plan, pad, algs)
	for _, rg := range plan {
		for off := rg.off; off < rg.off+rg.n; {
			n := min(int64(len(buf)), rg.off+rg.n-off)
			m, err := r.ReadAt(buf[:n], off)
			if int64(m) < n {
				if err == nil || errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return nil, fmt.Errorf("read %d bytes at offset %d: %w", n, off, err)
			}
			d.write(buf[:n])
			off += n
		}
	}
	return d.sums(), nil
}

// pageHashes computes the Authenticode page hashes (SpcPageHashes v1/v2) the way signers
// (signtool, osslsigncode, relic) produce them: the headers without the excluded fields,
// zero-padded to a page; then every page of every section in section-table order, each
// zero-padded; then an entry with the end offset and an all-zero digest.
// maxPageHashHeaders bounds the header bytes read at once for page hashes.
const maxPageHashHeaders = 1 << 20

func pageHashes(r io.ReaderAt, p *peFile, alg crypto.Hash, buf []byte) ([]byte, error) {
	if !alg.Available() {
		return nil, fmt.Errorf("page hash algorithm %v unavailable", alg)
	}
	page := make([]byte, p.pageSize)
	var out []byte
	entry := func(off int64, data []byte) {
		var o [4]byte
		binary.LittleEndian.PutUint32(o[:], uint32(off))
		out = append(out, o[:]...)
		if data == nil {
			out = append(out, make([]byte, alg.Size())...)
			return
		}
		h := alg.New()
		h.Write(data)
		if pad := p.pageSize - int64(len(data)); pad > 0 {
			h.Write(make([]byte, pad))
		}
		out = h.Sum(out)
	}
	// Header page: the hashed header bytes, padded by (pageSize - SizeOfHeaders) zeros. Real
	// headers fit in a page or two; a crafted SizeOfHeaders as large as the file must not
	// make us hold the file in memory.
	if p.sizeOfHeaders > maxPageHashHeaders {
		return nil, fmt.Errorf("%w: SizeOfHeaders %#x is too large for page hashes (at most %#x)", ErrMalformed, p.sizeOfHeaders, maxPageHashHeaders)
	}
	hdr := make([]byte, p.sizeOfHeaders)
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("read headers: %w", err)
	}
	h := alg.New()
	h.Write(hdr[:p.checksumOff])
	h.Write(hdr[p.checksumOff+4 : p.certDirOff])
	h.Write(hdr[p.certDirOff+8:])
	if pad := p.pageSize - p.sizeOfHeaders; pad > 0 {
		h.Write(make([]byte, pad))
	}
	out = append(out, 0, 0, 0, 0)
	out = h.Sum(out)
	var last int64
	for _, s := range p.sections {
		if s.SizeOfRawData == 0 {
			continue
		}
		for off := int64(0); off < int64(s.SizeOfRawData); off += p.pageSize {
			n := min(p.pageSize, int64(s.SizeOfRawData)-off)
			if _, err := r.ReadAt(page[:n], int64(s.PointerToRaw)+off); err != nil {
				return nil, fmt.Errorf("read section %q: %w", s.Name, err)
			}
			entry(int64(s.PointerToRaw)+off, page[:n])
		}
		last = int64(s.PointerToRaw) + int64(s.SizeOfRawData)
	}
	entry(last, nil)
	return out, nil
}

// Tap computes the Authenticode image digest (SHA-256) and
// captures the certificate table while the hasher streams the file once. It never fails a
// Write: a problem only makes Verify fall back to reading the file itself.
type Tap struct {
	pe        *peFile
	d         *digester
	certTable []byte
	seen      int64
	done      map[crypto.Hash][]byte
}

var _ signers.Tap = (*Tap)(nil)

// Write implements io.Writer; it always consumes all of p.
func (t *Tap) Write(p []byte) (int, error) {
	start := t.seen
	t.seen += int64(len(p))
	if t.seen > t.pe.size {
		return len(p), nil // the file grew; Verify will notice and fall back
	}
	t.d.feed(p)
	if t.pe.certSize > 0 {
		cs, ce := t.pe.certStart, t.pe.certStart+t.pe.certSize
		lo, hi := max(cs, start), min(ce, t.seen)
		if lo < hi {
			if t.certTable == nil {
				t.certTable = make([]byte, 0, t.pe.certSize) // bounded by the file size and maxCertTable
			}
			t.certTable = append(t.certTable, p[lo-start:hi-start]...)
		}
	}
	return len(p), nil
}

// complete reports whether the tap saw exactly the file it was made for.
func (t *Tap) complete(size int64) bool {
	return t != nil && t.seen == size && t.pe.size == size && int64(len(t.certTable)) == t.pe.certSize
}

// StreamTap implements signers.StreamVerifier: for a PE file whose headers lie within head
// and whose digest ranges run front to back (every normal PE), it returns a Tap that computes
// the image digest during the hasher's single read.
func (v *Verifier) StreamTap(format hashing.Format, head []byte, size int64) signers.Tap {
	if format != hashing.FormatPE {
		return nil
	}
	p, err := parsePE(headerReader{head: head, size: size})
	if err != nil {
		return nil
	}
	plan, pad, err := p.digestPlan()
	if err != nil || !monotonic(plan) {
		return nil
	}
	// SHA-256 only: it is the reported digest and what nearly every signature uses. A SHA-1
	// (or other) signature makes Verify hash the planned ranges once more.
	return &Tap{pe: p, d: newDigester(plan, pad, []crypto.Hash{crypto.SHA256})}
}

// sums returns the tap's digests, finishing them on the first call.
func (t *Tap) sums() map[crypto.Hash][]byte {
	if t.done == nil {
		t.done = t.d.sums()
	}
	out := make(map[crypto.Hash][]byte, len(t.done))
	for a, s := range t.done {
		out[a] = s
	}
	return out
}

// equalDigest compares two digests in constant time.
func equalDigest(a, b []byte) bool { return len(a) > 0 && hmac.Equal(a, b) }
