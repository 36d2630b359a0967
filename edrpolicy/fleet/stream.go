package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
)

// errValueTooLarge ends a document whose single value (one row, one record, one key's
// scalar) is larger than the line limit: the decoder would hold it whole.
var errValueTooLarge = errors.New("a single JSON value larger than the line limit")

// stream reads JSON documents, one after the other, token by token; line0 is the line the
// stream starts on.
func (r *reader) stream(rd io.Reader, line0 int) error {
	lc := newLineCounter(rd)
	lc.line = line0
	lc.limit = int64(r.opts.MaxLine)
	dec := json.NewDecoder(lc)
	s := &streamer{r: r, dec: dec, lc: lc}
	for {
		line := lc.lineAt(dec.InputOffset())
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return s.syntax(err)
		}
		switch tok {
		case json.Delim('['):
			err = s.array("")
		case json.Delim('{'):
			err = s.object(line)
		default:
			return r.fatal(lc.lineAt(dec.InputOffset()), fmt.Errorf("%w: a JSON %T at the top level (want an object or an array)", ErrNotEvidence, tok))
		}
		if err != nil {
			return err
		}
	}
}

type streamer struct {
	r   *reader
	dec *json.Decoder
	lc  *lineCounter
}

// fatalAt ends the document for an error decoding the value that starts on line: a value
// over the limit is placed at its start, a syntax error where it is.
func (s *streamer) fatalAt(line int, err error) error {
	if errors.Is(err, errValueTooLarge) {
		return s.r.fatal(line, err)
	}
	return s.syntax(err)
}

// syntax turns a decoder error into a fatal error at its line.
func (s *streamer) syntax(err error) error {
	var se *json.SyntaxError
	off := s.dec.InputOffset()
	if errors.As(err, &se) {
		off = max(se.Offset-1, 0)
	}
	if err == io.ErrUnexpectedEOF {
		err = errors.New("unexpected end of the document")
	}
	return s.r.fatal(s.lc.lineOf(off), err)
}

// fatalDecode says whether a Decode error ends the document (a syntax or read error) rather
// than only the value (a type error: the decoder has consumed the value and goes on).
func fatalDecode(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errValueTooLarge) || errors.Is(err, io.EOF)
}

// array reads the rest of an array of osquery objects (after '['): osqueryi rows, osqueryd
// results or Fleet report rows; docHost is the host a Fleet host report names.
func (s *streamer) array(docHost string) error {
	for s.dec.More() {
		line := s.lc.lineAt(s.dec.InputOffset())
		s.r.elem = element{}
		if err := s.dec.Decode(&s.r.elem); err != nil {
			if fatalDecode(err) {
				return s.fatalAt(line, err)
			}
			s.r.rowErr(line, err)
			continue
		}
		if s.r.elem.isDocument() {
			s.r.rowErr(line, fmt.Errorf("%w: a document (files, results) inside an array", ErrNotEvidence))
			continue
		}
		s.r.emitElement(&s.r.elem, line, docHost)
	}
	_, err := s.dec.Token() // ']'
	if err != nil {
		return s.syntax(err)
	}
	return nil
}

// object reads the rest of a top-level object (after '{'): an inspect document, a Fleet
// report, or an osqueryd result written over several lines, whose keys may come in any
// order (osquery writes the host after the rows, so its rows are held until the end).
func (s *streamer) object(line0 int) error {
	var e element
	docHost := ""
	recognised := false
	for s.dec.More() {
		tok, err := s.dec.Token()
		if err != nil {
			return s.syntax(err)
		}
		key, _ := tok.(string)
		s.lc.lineAt(s.dec.InputOffset())
		known, err := s.objectValue(line0, key, &e, &docHost)
		if err != nil {
			return err
		}
		recognised = recognised || known
	}
	if _, err := s.dec.Token(); err != nil { // '}'
		return s.syntax(err)
	}
	switch {
	case e.isLog():
		e.HostName = Text(docHost)
		s.r.emitElement(&e, line0, "")
	case !recognised:
		s.r.rowErr(line0, fmt.Errorf("%w: an object with none of the keys of an inspect document (files), a Fleet report (results) or an osqueryd result (columns, snapshot, diffResults)", ErrNotEvidence))
	}
	return nil
}

// objectValue reads the value of key in a top-level object (of the object starting at line
// line0) into the document host, the statistics, the osqueryd result e, or records and
// results of its own; it skips a value it does not know and reports whether it knew key.
func (s *streamer) objectValue(line0 int, key string, e *element, docHost *string) (bool, error) {
	var err error
	switch key {
	case "schema_version":
		var v int
		if err := s.dec.Decode(&v); err != nil {
			return false, s.syntax(err)
		}
		if v != edrpolicy.SchemaVersion {
			return false, s.r.fatal(line0, fmt.Errorf("an inspect document of schema_version %d; this edrpolicy reads %d", v, edrpolicy.SchemaVersion))
		}
	case "host", "host_name":
		var h Text
		if err := s.decodeScalar(&h); err != nil {
			return false, err
		}
		*docHost = string(h)
	case "files":
		err = s.records(*docHost)
	case "results":
		err = s.results(*docHost)
	case "report_clipped":
		var clipped bool
		if err := s.decodeScalar(&clipped); err != nil {
			return false, err
		}
		s.r.stats.Clipped = s.r.stats.Clipped || clipped
	case "hostIdentifier":
		err = s.decodeScalar(&e.HostIdentifier)
	case "hostname":
		err = s.decodeScalar(&e.Hostname)
	case "action":
		err = s.decodeScalar(&e.Action)
	case "columns":
		e.Cols = new(Columns)
		err = s.decodeValue(e.Cols)
	case "snapshot":
		err = s.decodeValue(&e.Snapshot)
		if e.Snapshot == nil {
			e.Snapshot = []Columns{}
		}
	case "diffResults":
		e.Diff = new(diffResults)
		err = s.decodeValue(e.Diff)
	case "decorations":
		e.Decorations = new(decorations)
		err = s.decodeValue(e.Decorations)
	case "name", "calendarTime", "unixTime", "epoch", "counter", "numerics", "query_id", "report_id", "host_id", "last_fetched":
		err = s.skip()
	default:
		return false, s.skip()
	}
	return err == nil, err
}

// records reads an inspect document's "files" array record by record.
func (s *streamer) records(docHost string) error {
	if open, err := s.openArray("files", "inspect"); !open {
		return err
	}
	for s.dec.More() {
		line := s.lc.lineAt(s.dec.InputOffset())
		rec := new(inspectRecord)
		if err := s.dec.Decode(rec); err != nil {
			if fatalDecode(err) {
				return s.fatalAt(line, err)
			}
			s.r.rowErr(line, err)
			continue
		}
		host := rec.Host
		if host == "" {
			host = docHost
		}
		if host == "" {
			s.r.rowErr(line, errors.New(`the record names no host, and the document names none before "files": give each host's inspect document its host name (inspect writes "host" before "files")`))
			continue
		}
		s.r.row = Row{File: s.r.src.Name, Line: line, Host: host, Record: &rec.FileEvidence}
		s.r.stats.Rows++
		if err := s.r.handle(&s.r.row); err != nil {
			s.r.rowErr(line, err)
		}
	}
	if _, err := s.dec.Token(); err != nil { // ']'
		return s.syntax(err)
	}
	return nil
}

// inspectRecord is a file record of an inspect document; a record may name its own host.
type inspectRecord struct {
	edrpolicy.FileEvidence
	Host string `json:"host"`
}

// results reads a Fleet report's "results" array row by row.
func (s *streamer) results(docHost string) error {
	if open, err := s.openArray("results", "fleet-report"); !open {
		return err
	}
	return s.array(docHost)
}

// openArray reads the '[' that opens the array of key and records that the input holds a
// document of format. It reports false, with a nil error, for a null array (nothing to read).
func (s *streamer) openArray(key, format string) (bool, error) {
	tok, err := s.dec.Token()
	if err != nil {
		return false, s.syntax(err)
	}
	if tok == nil {
		return false, nil
	}
	if tok != json.Delim('[') {
		return false, s.r.fatal(s.lc.lineAt(s.dec.InputOffset()), fmt.Errorf("%q is not an array", key))
	}
	s.r.formats[format] = true
	return true, nil
}

func (s *streamer) decodeScalar(v any) error {
	if err := s.dec.Decode(v); err != nil {
		if fatalDecode(err) {
			return s.syntax(err)
		}
		return s.r.fatal(s.lc.lineAt(s.dec.InputOffset()), err)
	}
	return nil
}

// decodeValue decodes one value of a multi-line osqueryd result (its columns or rows); a
// type error ends the object.
func (s *streamer) decodeValue(v any) error { return s.decodeScalar(v) }

// skip reads past one value without keeping it (token by token, so that a large unknown
// value is not held whole).
func (s *streamer) skip() error {
	depth := 0
	for {
		tok, err := s.dec.Token()
		if err != nil {
			return s.syntax(err)
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
		s.lc.lineAt(s.dec.InputOffset())
		if depth == 0 {
			return nil
		}
	}
}
