package fleet

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// got is a row as a test sees it.
type got struct {
	Line    int
	Host    string
	Path    string
	SHA256  string
	Removed bool
	Inspect bool
}

func readAll(t *testing.T, name, content string) ([]got, *ReadStats, error) {
	t.Helper()
	var rows []got
	st, err := Read(Source{Name: name, Reader: strings.NewReader(content)}, ReadOptions{}, func(r *Row) error {
		g := got{Line: r.Line, Host: r.Host, Removed: r.Removed}
		if r.Record != nil {
			g.Inspect, g.Path, g.SHA256 = true, r.Record.Path, r.Record.SHA256
		} else {
			g.Path, g.SHA256 = string(r.Cols.Path), string(r.Cols.SHA256)
		}
		rows = append(rows, g)
		return nil
	})
	return rows, st, err
}

const (
	sumA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	sumB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// Every form the reader knows, as osquery, osqueryi, Fleet and inspect write it.
func TestReadForms(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		formats  []string
		want     []got
	}{
		{
			name: "osqueryd event form, differential",
			in: `{"name":"pack_edrpolicy_files","hostIdentifier":"ws-1","calendarTime":"Tue Sep 30 17:37:30 2014","unixTime":1412123850,"epoch":0,"counter":1,"numerics":false,"decorations":{"host_uuid":"u-1"},"columns":{"path":"C:\\a.exe","sha256":"` + sumA + `","size":"12"},"action":"added"}
{"name":"pack_edrpolicy_files","hostIdentifier":"ws-1","columns":{"path":"C:\\a.exe","sha256":"` + sumB + `"},"action":"removed"}
`,
			formats: []string{"osqueryd-event"},
			want:    []got{{Line: 1, Host: "ws-1", Path: `C:\a.exe`, SHA256: sumA}, {Line: 2, Host: "ws-1", Path: `C:\a.exe`, SHA256: sumB, Removed: true}},
		},
		{
			name:    "event form with the hostname key of osquery's docs, numerics and CRLF",
			in:      "{\"action\":\"added\",\"columns\":{\"path\":\"/usr/bin/x\",\"size\":42,\"sha256\":\"" + sumA + "\"},\"name\":\"q\",\"hostname\":\"h.local\"}\r\n",
			formats: []string{"osqueryd-event"},
			want:    []got{{Line: 1, Host: "h.local", Path: "/usr/bin/x", SHA256: sumA}},
		},
		{
			name:    "snapshot form: the host after the rows, as osquery writes it",
			in:      `{"snapshot":[{"path":"/a","sha256":"` + sumA + `"},{"path":"/b","sha256":"` + sumB + `"}],"action":"snapshot","name":"q","hostIdentifier":"mac-1","calendarTime":"x","unixTime":"1","epoch":"0","counter":"0"}` + "\n",
			formats: []string{"osqueryd-snapshot"},
			want:    []got{{Line: 1, Host: "mac-1", Path: "/a", SHA256: sumA}, {Line: 1, Host: "mac-1", Path: "/b", SHA256: sumB}},
		},
		{
			name:    "batch form: removed before added",
			in:      "\n\n" + `{"diffResults":{"added":[{"path":"/a","sha256":"` + sumB + `"}],"removed":[{"path":"/a","sha256":"` + sumA + `"}]},"name":"q","hostIdentifier":"lx-1","unixTime":"1"}`,
			formats: []string{"osqueryd-batch"},
			want:    []got{{Line: 3, Host: "lx-1", Path: "/a", SHA256: sumA, Removed: true}, {Line: 3, Host: "lx-1", Path: "/a", SHA256: sumB}},
		},
		{
			name: "osqueryd result over several lines (osquery's docs, whitespace added)",
			in: `{
  "action": "snapshot",
  "snapshot": [
    {"path": "/a", "sha256": "` + sumA + `"}
  ],
  "name": "q",
  "hostIdentifier": "h2"
}
{
  "diffResults": {"added": [{"path": "/b", "sha256": "` + sumB + `"}], "removed": []},
  "name": "q",
  "decorations": {"hostname": "h3"}
}`,
			formats: []string{"osqueryd-batch", "osqueryd-snapshot"},
			want:    []got{{Line: 1, Host: "h2", Path: "/a", SHA256: sumA}, {Line: 9, Host: "h3", Path: "/b", SHA256: sumB}},
		},
		{
			name: "osqueryi --json array, the host as a column",
			in: `[
  {"hostname":"ws-9","path":"C:\\x.dll","sha256":"` + sumA + `","authenticode_result":"trusted"},
  {"hostname":"ws-9","path":"C:\\y.dll","sha256":"` + sumB + `"}
]`,
			formats: []string{"osqueryi"},
			want:    []got{{Line: 2, Host: "ws-9", Path: `C:\x.dll`, SHA256: sumA}, {Line: 3, Host: "ws-9", Path: `C:\y.dll`, SHA256: sumB}},
		},
		{
			name: "Fleet query report (GET /api/v1/fleet/queries/:id/report)",
			in: `{
  "query_id": 31,
  "report_clipped": false,
  "results": [
    {"host_id": 1, "host_name": "foo", "last_fetched": "2024-01-01T00:00:00Z", "columns": {"path": "/a", "sha256": "` + sumA + `"}},
    {"host_id": 2, "host_name": "bar", "last_fetched": "2024-01-01T00:00:00Z", "columns": {"path": "/a", "sha256": "` + sumA + `"}}
  ]
}`,
			formats: []string{"fleet-report"},
			want:    []got{{Line: 5, Host: "foo", Path: "/a", SHA256: sumA}, {Line: 6, Host: "bar", Path: "/a", SHA256: sumA}},
		},
		{
			name:    "a host's Fleet report names the host once, before results",
			in:      `{"query_id":3,"host_id":7,"host_name":"ws-7","last_fetched":null,"report_clipped":false,"results":[{"columns":{"path":"/a","sha256":"` + sumA + `"}}]}`,
			formats: []string{"fleet-report"},
			want:    []got{{Line: 1, Host: "ws-7", Path: "/a", SHA256: sumA}},
		},
		{
			name: "inspect documents of two hosts, one after the other",
			in: `{
  "schema_version": 1,
  "host": "ref-1",
  "files": [
    {
      "path": "CrashPlanService.exe",
      "root": "C:\\Program Files\\CrashPlan",
      "size": 3,
      "format": "pe",
      "sha256": "` + sumA + `"
    }
  ]
}
{"schema_version": 1, "host": "ref-2", "files": [{"path": "x", "root": "/r", "sha256": "` + sumB + `", "host": "own-host"}]}
`,
			formats: []string{"inspect"},
			want:    []got{{Line: 5, Host: "ref-1", Path: "CrashPlanService.exe", SHA256: sumA, Inspect: true}, {Line: 14, Host: "own-host", Path: "x", SHA256: sumB, Inspect: true}},
		},
		{
			name:    "a byte-order mark and blank lines first",
			in:      "\ufeff\n  \n" + `{"name":"q","hostIdentifier":"h","columns":{"path":"/a","sha256":"` + sumA + `"},"action":"added"}`,
			formats: []string{"osqueryd-event"},
			want:    []got{{Line: 3, Host: "h", Path: "/a", SHA256: sumA}},
		},
		{
			name: "empty file",
			in:   "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, st, err := readAll(t, "e.log", tc.in)
			require.NoError(t, err)
			assert.Empty(t, st.Errors)
			assert.Equal(t, tc.want, rows)
			assert.Equal(t, tc.formats, st.Formats)
			assert.Equal(t, int64(len(tc.want)), st.Rows)
		})
	}
}

// A bad line names the file and the line, and the lines after it are read.
func TestReadBadLinesGoOn(t *testing.T) {
	in := strings.Join([]string{
		`{"name":"q","hostIdentifier":"h1","columns":{"path":"/a","sha256":"` + sumA + `"},"action":"added"}`,
		`{"name":"q","hostIdentifier":"h1","columns":{"path":"/a"`, // truncated
		`not json at all`,
		`{"name":"q","columns":{"path":"/b","sha256":"` + sumA + `"},"action":"added"}`,  // no host
		`{"name":"q","hostIdentifier":"h1","columns":{"path":{"x":1}},"action":"added"}`, // a column that is an object
		`{"name":"q","hostIdentifier":"h1","columns":{"path":"/c"},"action":"moved"}`,    // unknown action
		`{"something":"else"}`,
		`[1,2]`,
		`{"name":"q","hostIdentifier":"h2","columns":{"path":"/d","sha256":"` + sumB + `"},"action":"added"}`,
	}, "\n")
	rows, st, err := readAll(t, "day.log", in)
	require.NoError(t, err)
	assert.Equal(t, []got{{Line: 1, Host: "h1", Path: "/a", SHA256: sumA}, {Line: 9, Host: "h2", Path: "/d", SHA256: sumB}}, rows)
	var msgs []string
	for _, e := range st.Errors {
		msgs = append(msgs, e.Error())
	}
	require.Len(t, msgs, 7, "%q", msgs)
	for i, want := range []string{"day.log:2: column", "day.log:3: not evidence", "day.log:4: the row names no host", "day.log:5: a column value must be a string", "day.log:6: osquery action \"moved\"", "day.log:7: not evidence", "day.log:8: not evidence"} {
		assert.Contains(t, msgs[i], want)
	}
	assert.Equal(t, 7, st.ErrorCount)
}

// A syntax error in a multi-line document ends that file, naming the line.
func TestReadDocumentSyntaxError(t *testing.T) {
	in := "[\n  {\"hostname\":\"h\",\"path\":\"/a\",\"sha256\":\"" + sumA + "\"},\n  {\"hostname\":\"h\",\"path\":\"/b\" \"sha256\":\"x\"},\n  {\"hostname\":\"h\",\"path\":\"/c\",\"sha256\":\"" + sumA + "\"}\n]"
	rows, _, err := readAll(t, "out.json", in)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "out.json:3: ")
	assert.Len(t, rows, 1, "rows before the error were read")

	_, _, err = readAll(t, "trunc.json", "{\n \"schema_version\": 1,\n \"host\": \"h\",\n \"files\": [\n  {\"path\": \"a\"")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "trunc.json:5: unexpected end")
}

// A file that is none of the formats is refused with its name and line 1.
func TestReadNotEvidence(t *testing.T) {
	for _, in := range []string{
		"I0930 17:37:30.123 osqueryd status log\n",
		"path,sha256\n/a,aaaa\n",
		"\x00\x01\x02 binary",
		"42\n",
	} {
		_, _, err := readAll(t, "x.txt", in)
		require.Error(t, err, "%q", in)
		assert.ErrorIs(t, err, ErrNotEvidence)
		assert.Contains(t, err.Error(), "x.txt:1: ")
	}
	// Documents: another schema_version ends the document; an object with none of the keys
	// is a bad row.
	_, _, err := readAll(t, "doc.json", "{\n\"schema_version\": 2,\n\"files\": []}")
	assert.ErrorContains(t, err, "doc.json:1: an inspect document of schema_version 2")
	_, st, err := readAll(t, "line.json", `{"schema_version": 2, "files": []}`)
	require.NoError(t, err, "on one line, the line is bad and the next one is read")
	require.Len(t, st.Errors, 1)
	assert.Equal(t, "line.json:1: an inspect document of schema_version 2; this edrpolicy reads 1", st.Errors[0].Error())
	_, st, err = readAll(t, "doc.json", "{\n\"what\": 1\n}")
	require.NoError(t, err)
	require.Len(t, st.Errors, 1)
	assert.ErrorIs(t, st.Errors[0], ErrNotEvidence)
	assert.Contains(t, st.Errors[0].Error(), "doc.json:1: ")
}

// gzip is recognised by its magic bytes, streamed, and a .gz name without them is refused.
func TestReadGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i := range 3 {
		zw.Write([]byte(`{"name":"q","hostIdentifier":"h` + string(rune('0'+i)) + `","columns":{"path":"/a","sha256":"` + sumA + `"},"action":"added"}` + "\n"))
	}
	require.NoError(t, zw.Close())
	dir := t.TempDir()
	gz := filepath.Join(dir, "day.log.gz")
	require.NoError(t, os.WriteFile(gz, buf.Bytes(), 0o644))
	var hosts []string
	st, err := Read(Source{Name: gz}, ReadOptions{}, func(r *Row) error { hosts = append(hosts, r.Host); return nil })
	require.NoError(t, err)
	assert.Equal(t, []string{"h0", "h1", "h2"}, hosts)
	assert.Equal(t, []string{"gzip", "osqueryd-event"}, st.Formats)

	plain := filepath.Join(dir, "plain.gz")
	require.NoError(t, os.WriteFile(plain, []byte(`{"a":1}`), 0o644))
	_, err = Read(Source{Name: plain}, ReadOptions{}, func(*Row) error { return nil })
	assert.ErrorContains(t, err, "named .gz but not gzip data")

	// A gzip stream that decompresses past the cap stops there.
	var bomb bytes.Buffer
	zw = gzip.NewWriter(&bomb)
	zw.Write([]byte("[" + strings.Repeat(" ", 1<<20)))
	zw.Close()
	_, err = Read(Source{Name: "bomb.gz", Reader: &bomb}, ReadOptions{MaxBytes: 64 << 10}, func(*Row) error { return nil })
	assert.ErrorContains(t, err, "decompresses to more than 65536 bytes")
}
