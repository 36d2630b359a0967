package fleet

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// FuzzRead: the sniffer and reader never panic or hang on any input, plain or gzipped; every
// row they hand on names a host; every error names the file and a line within the input; and
// a merger (Windows and macOS) takes every row without panicking.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		`{"name":"q","hostIdentifier":"h","columns":{"path":"C:\\a.exe","sha256":"` + sumA + `","product_version":"11.2.0.0","authenticode_result":"trusted"},"action":"added"}`,
		`{"snapshot":[{"path":"/Applications/CrashPlan.app/Contents/MacOS/CrashPlan","sha256":"` + sumB + `","signed":"1","team_identifier":"T","authority":"A"}],"action":"snapshot","name":"q","hostIdentifier":"m"}`,
		`{"diffResults":{"added":[{"path":"/a","sha256":"` + sumA + `"}],"removed":[{"path":"/a"}]},"name":"q","hostIdentifier":"l"}`,
		"[\n {\"hostname\":\"h\",\"path\":\"/a\",\"sha256\":\"" + sumA + "\"}\n]",
		`{"query_id":1,"report_clipped":true,"results":[{"host_id":1,"host_name":"h","columns":{"path":"/a"}}]}`,
		"{\n \"schema_version\": 1,\n \"host\": \"h\",\n \"files\": [{\"path\": \"a.exe\", \"root\": \"C:\\\\P\", \"sha256\": \"" + sumA + "\", \"format\": \"pe\", \"signature_status\": \"valid\", \"signatures\": [{\"kind\": \"authenticode\", \"status\": \"valid\", \"nested\": false}]}]\n}",
		"{\"a\":\n",
		"\ufeff[]",
		"",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	code42, err := profile.BuiltIn("code42")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, zip bool) {
		in := data
		if zip {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(data)
			zw.Close()
			in = b.Bytes()
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, os := range []profile.OS{profile.OSWindows, profile.OSMac} {
			m := NewMerger(code42, os)
			st, err := Read(Source{Name: "fuzz.log", Reader: bytes.NewReader(in)}, ReadOptions{MaxLine: 4096, MaxBytes: 1 << 20}, func(r *Row) error {
				if r.Host == "" {
					t.Fatalf("a row without a host: %+v", r)
				}
				if r.Line < 1 || r.Line > lines {
					t.Fatalf("row line %d outside 1..%d", r.Line, lines)
				}
				return m.Add(r)
			})
			if err != nil && !strings.HasPrefix(err.Error(), "fuzz.log") {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			for _, e := range st.Errors {
				if e.File != "fuzz.log" || e.Line < 0 || e.Line > lines {
					t.Fatalf("error %q placed at line %d of %d", e.Error(), e.Line, lines)
				}
			}
			if len(m.hostNames) > 0 {
				vs, _ := m.hostVersions()
				for _, v := range vs {
					m.analyze(v, nil, thresholds{minHosts: 1, minShare: 0.01}, false)
				}
			}
		}
	})
}
