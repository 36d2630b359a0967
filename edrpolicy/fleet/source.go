package fleet

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/edrpolicy/edrpolicy/internal/safeopen"
)

// Limits of what an evidence file may be. Memory does not grow with a file's size (rows are
// read one at a time); the limits bound what one line, and one file, may cost.
const (
	// MaxEvidence bounds an evidence file, and the stream a .gz file decompresses to: a day
	// of osqueryd results for 10,000 hosts × 10,000 files in event form is about 4 GiB.
	MaxEvidence int64 = 256 << 30
	// MaxLine bounds one line of a JSON-lines file: an osqueryd snapshot line of the query
	// pack for 10,000 files is about 4 MiB.
	MaxLine = 64 << 20
)

// Source is one evidence input: a file named by Name, or, when Reader is set, that stream
// (Name "-" is standard input for the CLI).
type Source struct {
	Name   string
	Reader io.Reader
}

// ErrNotEvidence is wrapped by the error for a file that is none of the evidence formats.
var ErrNotEvidence = errors.New("not evidence")

// openSource opens s: a named file through safeopen (regular files only, never blocking on
// a FIFO, size-capped), a .gz file or gzip stream (recognised by its magic bytes) through a
// streaming gunzip whose output is capped too. The returned reader is buffered.
func openSource(s Source, maxBytes int64) (*bufio.Reader, io.Closer, error) {
	var r io.Reader = s.Reader
	var closer io.Closer = io.NopCloser(nil)
	if r == nil {
		f, err := safeopen.Open("", s.Name, maxBytes)
		if err != nil {
			return nil, nil, err
		}
		r, closer = f, f
	}
	br := bufio.NewReaderSize(r, 256<<10)
	magic, _ := br.Peek(2)
	gz := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	if !gz && strings.HasSuffix(strings.ToLower(s.Name), ".gz") {
		closer.Close()
		return nil, nil, fmt.Errorf("%s: named .gz but not gzip data", s.Name)
	}
	if !gz {
		return br, closer, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		closer.Close()
		return nil, nil, fmt.Errorf("%s: gzip: %w", s.Name, err)
	}
	capped := &capReader{r: zr, left: maxBytes, max: maxBytes, name: s.Name}
	return bufio.NewReaderSize(capped, 256<<10), multiCloser{zr, closer}, nil
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var first error
	for _, c := range m {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// capReader fails once more than left bytes were read: a gzip stream that decompresses to
// more than the cap (a "zip bomb") stops there.
type capReader struct {
	r         io.Reader
	left, max int64
	name      string
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("%s: refused: decompresses to more than %d bytes", c.name, c.max)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: gzip: %w", c.name, err)
	}
	return n, err
}

// lineReader reads lines of at most max bytes; a longer line is skipped (its bytes are read
// and dropped, never held) and reported.
type lineReader struct {
	br  *bufio.Reader
	buf []byte
	max int
	n   int // number of the line last returned (1-based)
}

// errLineTooLong is returned for a line longer than the limit; the reader is then at the
// next line.
var errLineTooLong = errors.New("line too long")

// next returns the next line without its end of line, or io.EOF.
func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	l.n++
	for {
		frag, err := l.br.ReadSlice('\n')
		if len(l.buf)+len(frag) > l.max {
			for err == bufio.ErrBufferFull {
				_, err = l.br.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			return nil, errLineTooLong
		}
		l.buf = append(l.buf, frag...)
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
			return bytes.TrimRight(l.buf, "\r\n"), nil
		case io.EOF:
			if len(l.buf) == 0 {
				return nil, io.EOF
			}
			return bytes.TrimRight(l.buf, "\r\n"), nil
		default:
			return nil, err
		}
	}
}

// lineCounter is the reader under a json.Decoder: it keeps the bytes the decoder has read but
// that no line number was asked for yet, so that lineAt can say on which line a value at a
// decoder offset starts. Offsets are asked for in increasing order; bytes before the last one
// asked for are dropped, so it holds about the decoder's own look-ahead.
type lineCounter struct {
	r      io.Reader
	chunks [][]byte
	held   int64 // bytes in chunks
	limit  int64 // most bytes held before Read fails with errValueTooLarge (0: no limit)
	base   int64 // offset of chunks[0][0]
	line   int   // line number at base
}

func newLineCounter(r io.Reader) *lineCounter { return &lineCounter{r: r, line: 1} }

func (c *lineCounter) Read(p []byte) (int, error) {
	if c.limit > 0 && c.held > c.limit {
		return 0, errValueTooLarge
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.chunks = append(c.chunks, bytes.Clone(p[:n]))
		c.held += int64(n)
	}
	return n, err
}

// lineOf returns the line of the byte at off.
func (c *lineCounter) lineOf(off int64) int {
	c.advance(off)
	return c.line
}

// lineAt returns the line of the first byte at or after off that is not white space or a
// comma: where the value the decoder reads next starts.
func (c *lineCounter) lineAt(off int64) int {
	c.advance(off)
	line := c.line
	for _, ch := range c.chunks {
		for _, b := range ch {
			switch b {
			case '\n':
				line++
			case ' ', '\t', '\r', ',':
			default:
				return line
			}
		}
	}
	return line
}

// advance moves base to off, counting the newlines passed, and drops the chunks before it.
func (c *lineCounter) advance(off int64) {
	for off > c.base && len(c.chunks) > 0 {
		ch := c.chunks[0]
		take := int(min(off-c.base, int64(len(ch))))
		c.line += bytes.Count(ch[:take], []byte{'\n'})
		c.base += int64(take)
		c.held -= int64(take)
		if take == len(ch) {
			c.chunks[0] = nil
			c.chunks = c.chunks[1:]
		} else {
			c.chunks[0] = ch[take:]
		}
	}
}
