package fleet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Text is an osquery column value. osqueryd logs every column as a JSON string unless
// --logger_numerics is set, when integer columns are numbers; osqueryi --json prints strings;
// Fleet reports strings. Text takes a string, a number (its literal text), a boolean ("1" or
// "0", as osquery writes booleans) or null (empty).
type Text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *Text) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		*t = ""
	case b[0] == '"':
		if bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
			*t = Text(b[1 : len(b)-1])
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	case b[0] == 'n':
		*t = ""
	case b[0] == 't':
		*t = "1"
	case b[0] == 'f':
		*t = "0"
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		*t = Text(b)
	default:
		return fmt.Errorf("a column value must be a string, number, boolean or null, not %s", describeJSON(b))
	}
	return nil
}

func describeJSON(b []byte) string {
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return strconv.Quote(string(b[:min(len(b), 20)]))
}

// Columns are the osquery columns edrpolicy reads from a result row; other columns are
// ignored. The names are those of osquery's tables (specs/utility/file.table with its Windows
// extension, specs/hash.table, specs/windows/authenticode.table, specs/darwin/signature.table,
// specs/darwin/apps.table) and of the query pack `edrpolicy osquery-pack` writes.
type Columns struct {
	Path Text `json:"path"`
	Size Text `json:"size"`
	Mode Text `json:"mode"`
	Type Text `json:"type"`
	// hash
	SHA256 Text `json:"sha256"`
	SHA1   Text `json:"sha1"`
	// file, Windows columns
	FileVersion      Text `json:"file_version"`
	ProductVersion   Text `json:"product_version"`
	OriginalFilename Text `json:"original_filename"`
	// authenticode (Windows): the pack names result authenticode_result, since "result" is
	// a column of other tables too.
	AuthenticodeResult Text `json:"authenticode_result"`
	Result             Text `json:"result"`
	SubjectName        Text `json:"subject_name"`
	IssuerName         Text `json:"issuer_name"`
	// signature (macOS)
	Signed         Text `json:"signed"`
	Identifier     Text `json:"identifier"`
	CDHash         Text `json:"cdhash"`
	TeamIdentifier Text `json:"team_identifier"`
	Authority      Text `json:"authority"`
	Arch           Text `json:"arch"`
	// apps (macOS)
	BundleShortVersion Text `json:"bundle_short_version"`
	// The host, when a query selects it (osqueryi output has no envelope to name it).
	Hostname       Text `json:"hostname"`
	HostName       Text `json:"host_name"`
	HostIdentifier Text `json:"hostIdentifier"`
}

// host is the host the row's own columns name.
func (c *Columns) host() string {
	return string(first(c.HostIdentifier, c.Hostname, c.HostName))
}

// relevant reports whether the row carries anything edrpolicy reads besides a path.
func (c *Columns) relevant() bool {
	return c.SHA256 != "" || c.SHA1 != "" || c.authenticode() != "" || c.Signed != "" || c.TeamIdentifier != "" ||
		c.BundleShortVersion != "" || c.ProductVersion != ""
}

// authenticode is the row's authenticode result: authenticode_result, or result when it
// holds one of the values osquery's authenticode table writes (other tables have a result
// column too).
func (c *Columns) authenticode() string {
	if c.AuthenticodeResult != "" {
		return string(c.AuthenticodeResult)
	}
	switch c.Result {
	case "valid", "trusted", "invalid", "missing", "distrusted", "untrusted", "unknown":
		if c.SubjectName != "" || c.IssuerName != "" || c.Result == "missing" || c.Result == "trusted" || c.Result == "untrusted" || c.Result == "distrusted" {
			return string(c.Result)
		}
	}
	return ""
}

func first(vals ...Text) Text {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// diffResults is the batch form's {"added": [...], "removed": [...]}.
type diffResults struct {
	Added   []Columns `json:"added"`
	Removed []Columns `json:"removed"`
}

// decorations are osquery's decorator columns; only the host name is read.
type decorations struct {
	Hostname Text `json:"hostname"`
	HostUUID Text `json:"host_uuid"`
}

// element is one JSON object of evidence other than an inspect or Fleet document: an osqueryd
// result line (event form: columns + action; snapshot form: snapshot; batch form:
// diffResults), a row of an osqueryi --json array (flat columns), or a row of a Fleet query
// report (host_name + columns). Its own host fields are the envelope's; the flat columns
// are embedded.
type element struct {
	Columns
	Name           string       `json:"name"`
	HostIdentifier Text         `json:"hostIdentifier"`
	Hostname       Text         `json:"hostname"`
	HostName       Text         `json:"host_name"`
	Action         string       `json:"action"`
	Cols           *Columns     `json:"columns"`
	Snapshot       []Columns    `json:"snapshot"`
	Diff           *diffResults `json:"diffResults"`
	Decorations    *decorations `json:"decorations"`
	// Keys of the documents: an object holding them is an inspect document or a Fleet
	// report, which is read by the streaming reader instead.
	SchemaVersion json.RawMessage `json:"schema_version"`
	Files         json.RawMessage `json:"files"`
	Results       json.RawMessage `json:"results"`
}

// isDocument reports whether the object is an inspect document or a Fleet report.
func (e *element) isDocument() bool {
	return e.Files != nil || e.Results != nil || e.SchemaVersion != nil
}

// envelopeHost is the host the envelope names (osqueryd's hostIdentifier first).
func (e *element) envelopeHost() string {
	h := first(e.HostIdentifier, e.Hostname, e.HostName)
	if h == "" && e.Decorations != nil {
		h = first(e.Decorations.Hostname, e.Decorations.HostUUID)
	}
	return string(h)
}

// isLog reports whether the object is an osquery result log entry rather than a flat row.
func (e *element) isLog() bool {
	return e.Cols != nil || e.Snapshot != nil || e.Diff != nil
}
