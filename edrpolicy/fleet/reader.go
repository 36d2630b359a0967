package fleet

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
)

// Row is one row of evidence: an osquery result row (Cols) or an inspect record (Record),
// with the host that reported it. The reader reuses a Row and its Cols between calls: a
// handler keeps copies, never the pointers. Record is a fresh value for each record.
type Row struct {
	// File and Line place the row: the evidence file as given and the 1-based line it
	// starts on.
	File string
	Line int
	// Host is the host the row is from: osqueryd's hostIdentifier (else hostname or the
	// hostname decoration), a Fleet report's host_name, an inspect document's host, or a
	// hostname/host_name column of the row.
	Host string
	// Removed is true for an osqueryd differential "removed" row: the host no longer has it.
	Removed bool
	Cols    *Columns
	Record  *edrpolicy.FileEvidence
}

// RowError is a line or row of an evidence file that could not be used. Line is 0 for an
// error about the whole file.
type RowError struct {
	File string
	Line int
	Err  error
}

func (e *RowError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// MaxReportedErrors is how many row errors of one file are kept (the others are counted).
const MaxReportedErrors = 20

// ReadStats says what was read from one source.
type ReadStats struct {
	// Formats are the forms found, sorted: inspect, osqueryd-event, osqueryd-snapshot,
	// osqueryd-batch, osqueryi, fleet-report (with "+gzip" for a gzip stream).
	Formats []string
	// Rows counts the rows handed to the handler.
	Rows int64
	// Errors are the first MaxReportedErrors row errors; ErrorCount counts them all.
	Errors     []*RowError
	ErrorCount int
	// Clipped is set when a Fleet report says report_clipped: Fleet stopped storing rows,
	// so the report does not hold every host's results.
	Clipped bool
}

// ReadOptions bound what one source may cost. Zero values take MaxEvidence and MaxLine.
type ReadOptions struct {
	MaxBytes int64
	MaxLine  int
}

// Read reads one evidence source and calls handle for each row, in file order. An error from
// handle marks that row bad: it is recorded in the stats and reading goes on. Read returns an
// error when the source cannot be read on (it cannot be opened — safeopen refuses a FIFO,
// device or directory without blocking, and a file over the size cap —, it is none of the
// evidence formats, or a multi-line JSON document has a syntax error); rows before it were
// handled. Errors name the file and line.
//
// The format is sniffed from the content, not the name. A gzip stream (magic bytes 1f 8b) is
// decompressed as it is read. Then, after any byte-order mark and white space:
//
//   - '{' whose first line is a whole JSON object: JSON lines, one object per line, each
//     read on its own, so that a bad line is reported and the next one read. An object is an
//     osqueryd result line — event form (columns, action added or removed), snapshot form
//     (snapshot array), batch form (diffResults with added and removed) —, a flat row, or a
//     one-line inspect document or Fleet report.
//   - '{' or '[' otherwise: a JSON document (or several, one after the other), streamed token
//     by token: an inspect document (schema_version, host, files: read record by record), a
//     Fleet query report (results: row by row, each with host_name and columns; a host's
//     report names the host once, before results), a multi-line osqueryd result, or an array
//     of osqueryi --json rows (flat columns) or of osqueryd results. A syntax error ends the
//     file.
//   - anything else: not evidence (ErrNotEvidence), naming the file and line 1.
func Read(src Source, opts ReadOptions, handle func(*Row) error) (*ReadStats, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = MaxEvidence
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = MaxLine
	}
	r := &reader{src: src, opts: opts, handle: handle, stats: &ReadStats{}, formats: map[string]bool{}}
	err := r.read()
	for f := range r.formats {
		r.stats.Formats = append(r.stats.Formats, f)
	}
	sort.Strings(r.stats.Formats)
	return r.stats, err
}

type reader struct {
	src     Source
	opts    ReadOptions
	handle  func(*Row) error
	stats   *ReadStats
	formats map[string]bool
	row     Row
	elem    element
}

func (r *reader) read() error {
	br, closer, err := openSource(r.src, r.opts.MaxBytes)
	if err != nil {
		return &RowError{File: r.src.Name, Err: err}
	}
	defer closer.Close()
	if _, ok := closer.(multiCloser); ok {
		r.formats["gzip"] = true
	}
	skipBOM(br)
	if c, line, ok := firstByte(br); ok && c != '{' && c != '[' {
		// Refused at its first byte: neither read through nor held.
		peek, _ := br.Peek(min(br.Buffered(), 64))
		return r.fatal(line, fmt.Errorf("%w: want inspect JSON, osquery results (osqueryd JSON lines, an osqueryi --json array) or a Fleet query report; the file starts with %q", ErrNotEvidence, preview(bytes.TrimLeft(peek, " \t\r\n"))))
	}
	first, n, complete, err := firstLine(br, r.opts.MaxLine)
	switch {
	case err != nil:
		return &RowError{File: r.src.Name, Line: n, Err: err}
	case len(first) == 0:
		return nil // an empty file: no rows
	}
	start := bytes.TrimLeft(first, " \t\r\n")
	switch {
	case complete && start[0] == '{' && json.Valid(start):
		lines := &lineReader{br: br, max: r.opts.MaxLine, n: n}
		return r.lines(lines, start)
	case start[0] == '{' || start[0] == '[':
		return r.stream(io.MultiReader(bytes.NewReader(first), br), n)
	}
	return r.fatal(n, fmt.Errorf("%w: want inspect JSON, osquery results (osqueryd JSON lines, an osqueryi --json array) or a Fleet query report; the file starts with %q", ErrNotEvidence, preview(start)))
}

// firstByte peeks at the first byte that is not white space in the buffered start of the
// stream, and its line; ok is false when the buffer holds only white space (or nothing).
func firstByte(br *bufio.Reader) (c byte, line int, ok bool) {
	br.Peek(1) // one read, without waiting for more
	b, _ := br.Peek(br.Buffered())
	line = 1
	for _, c := range b {
		switch c {
		case '\n':
			line++
		case ' ', '\t', '\r':
		default:
			return c, line, true
		}
	}
	return 0, line, false
}

// firstLine reads the first line that is not blank, with its end of line, and its number.
// complete is false when the line is longer than max: the bytes read so far are returned,
// and the caller streams them followed by the rest.
func firstLine(br *bufio.Reader, max int) (line []byte, n int, complete bool, err error) {
	for {
		n++
		line = line[:0]
		for {
			frag, err := br.ReadSlice('\n')
			line = append(line, frag...)
			switch {
			case err == bufio.ErrBufferFull && len(line) > max:
				return line, n, false, nil
			case err == bufio.ErrBufferFull:
				continue
			case err != nil && err != io.EOF:
				return nil, n, false, err
			}
			if len(bytes.TrimSpace(line)) > 0 {
				return line, n, true, nil
			}
			if err == io.EOF {
				return nil, n, true, nil
			}
			break
		}
	}
}

func skipBOM(br *bufio.Reader) {
	if b, err := br.Peek(3); err == nil && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		br.Discard(3)
	}
}

func preview(b []byte) string {
	if len(b) > 24 {
		b = b[:24]
	}
	return string(b)
}

// lines reads JSON lines; first is the first (non-blank) line, already read.
func (r *reader) lines(lines *lineReader, first []byte) error {
	if w := decodeWorkers(); w > 0 {
		return r.linesParallel(lines, bytes.Clone(first), w)
	}
	line := first
	for {
		r.line(line, lines.n)
		var err error
		line, err = lines.next()
		switch {
		case err == io.EOF:
			return nil
		case errors.Is(err, errLineTooLong):
			r.rowErr(lines.n, fmt.Errorf("line longer than %d bytes, skipped", r.opts.MaxLine))
			line = nil
		case err != nil:
			return &RowError{File: r.src.Name, Line: lines.n, Err: err}
		}
	}
}

// line handles one line of a JSON-lines file.
func (r *reader) line(b []byte, n int) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return
	case b[0] != '{':
		r.rowErr(n, fmt.Errorf("%w: a line of JSON lines must be a JSON object, it starts with %q", ErrNotEvidence, preview(b)))
		return
	}
	r.elem = element{}
	if err := json.Unmarshal(b, &r.elem); err != nil {
		r.rowErr(n, lineJSONError(b, err))
		return
	}
	if r.elem.isDocument() {
		if err := r.stream(bytes.NewReader(b), n); err != nil {
			r.addErr(err, n)
		}
		return
	}
	r.emitElement(&r.elem, n, "")
}

// lineJSONError places a JSON error of a one-line object by its column.
func lineJSONError(b []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("column %d: %w", se.Offset, err)
	case errors.As(err, &te):
		return fmt.Errorf("column %d: %w", te.Offset, err)
	}
	return err
}

// emitElement hands the rows of one osquery object to the handler.
func (r *reader) emitElement(e *element, line int, docHost string) {
	host := e.envelopeHost()
	if host == "" {
		host = docHost
	}
	switch e.Action {
	case "", "added", "removed", "snapshot":
	default:
		r.rowErr(line, fmt.Errorf("osquery action %q: want added, removed or snapshot", e.Action))
		return
	}
	switch {
	case e.Snapshot != nil:
		r.formats["osqueryd-snapshot"] = true
		for i := range e.Snapshot {
			r.emit(&e.Snapshot[i], host, false, line)
		}
	case e.Diff != nil:
		r.formats["osqueryd-batch"] = true
		for i := range e.Diff.Removed {
			r.emit(&e.Diff.Removed[i], host, true, line)
		}
		for i := range e.Diff.Added {
			r.emit(&e.Diff.Added[i], host, false, line)
		}
	case e.Cols != nil:
		if e.Name == "" && e.Action == "" {
			r.formats["fleet-report"] = true // a Fleet report row: host_name and columns
		} else {
			r.formats["osqueryd-event"] = true
		}
		r.emit(e.Cols, host, e.Action == "removed", line)
	case e.Columns.Path != "" || e.Columns.relevant():
		r.formats["osqueryi"] = true
		r.emit(&e.Columns, host, false, line)
	default:
		r.rowErr(line, fmt.Errorf("%w: an object with no columns, snapshot, diffResults or path (keys of osquery results)", ErrNotEvidence))
	}
}

// emit hands one osquery row to the handler.
func (r *reader) emit(c *Columns, host string, removed bool, line int) {
	if host == "" {
		host = c.host()
	}
	if host == "" {
		r.rowErr(line, errors.New("the row names no host: osqueryd logs carry hostIdentifier, Fleet reports host_name; for osqueryi output select the host as a column (the query pack's hostname)"))
		return
	}
	r.row = Row{File: r.src.Name, Line: line, Host: host, Removed: removed, Cols: c}
	r.stats.Rows++
	if err := r.handle(&r.row); err != nil {
		r.rowErr(line, err)
	}
}

func (r *reader) rowErr(line int, err error) {
	r.addErr(&RowError{File: r.src.Name, Line: line, Err: err}, line)
}

// addErr records err (a *RowError keeps its own place).
func (r *reader) addErr(err error, line int) {
	re, ok := err.(*RowError)
	if !ok {
		re = &RowError{File: r.src.Name, Line: line, Err: err}
	}
	r.stats.ErrorCount++
	if len(r.stats.Errors) < MaxReportedErrors {
		r.stats.Errors = append(r.stats.Errors, re)
	}
}

func (r *reader) fatal(line int, err error) error {
	var re *RowError
	if errors.As(err, &re) {
		return err
	}
	return &RowError{File: r.src.Name, Line: line, Err: err}
}
