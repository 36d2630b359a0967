package fleet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// eventLog writes hosts × files osqueryd event lines of the pack's Windows files query (the
// shape scripts/fleetgen writes), each host its version's digests.
func eventLog(hosts, files int) []byte {
	var buf bytes.Buffer
	digest := func(v, f int) string {
		s := sha256.Sum256([]byte(fmt.Sprint(v, f)))
		return hex.EncodeToString(s[:])
	}
	for h := range hosts {
		v := h % 5 / 4
		ver := []string{"11.2.0.0", "11.1.0.0"}[v]
		for f := range files {
			name := fmt.Sprintf(`lib%02d\\module%05d.dll`, f%100, f)
			if f == 0 {
				name = "CrashPlanService.exe"
			}
			fmt.Fprintf(&buf, `{"name":"pack_edrpolicy_code42_windows_files_01","hostIdentifier":"ws-%05d","calendarTime":"Mon Jan  5 10:00:00 2026 UTC","unixTime":1767607200,"epoch":0,"counter":0,"numerics":false,"columns":{"path":"C:\\Program Files\\CrashPlan\\%s","size":"%d","file_version":"%s","product_version":"%s","sha256":"%s","authenticode_result":"trusted","hostname":"ws-%05d"},"action":"added"}`+"\n",
				h, name, 4096+f, ver, ver, digest(v, f), h)
		}
	}
	return buf.Bytes()
}

// BenchmarkReadMerge reads and merges osqueryd event lines: 100 hosts × 1,000 files.
//
//	go test -run '^$' -bench ReadMerge -benchmem ./edrpolicy/fleet
func BenchmarkReadMerge(b *testing.B) {
	const hosts, files = 100, 1000
	data := eventLog(hosts, files)
	p, err := profile.BuiltIn("code42")
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		m := NewMerger(p, profile.OSWindows)
		st, err := Read(Source{Name: "bench.log", Reader: bytes.NewReader(data)}, ReadOptions{}, m.Add)
		if err != nil || st.ErrorCount > 0 || st.Rows != hosts*files {
			b.Fatalf("%v %+v", err, st)
		}
	}
	b.ReportMetric(float64(hosts*files*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// What the merger holds does not grow with the number of rows: the same hosts reporting the
// same files ten times over (a snapshot query logs every run) leave the merger as large as
// one run does.
func TestMergerMemoryBoundedByDistinctData(t *testing.T) {
	p := code42(t)
	one := eventLog(50, 2000)
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	held := func(repeat int) uint64 {
		m := NewMerger(p, profile.OSWindows)
		for range repeat {
			_, err := Read(Source{Name: "r", Reader: bytes.NewReader(one)}, ReadOptions{}, m.Add)
			require.NoError(t, err)
		}
		assert.Equal(t, 50, len(m.hostNames))
		assert.Equal(t, 2000, len(m.paths))
		assert.Equal(t, int64(repeat)*100000, m.rows)
		with := heap()
		runtime.KeepAlive(m)
		m = nil
		without := heap()
		return with - min(with, without)
	}
	h1, h10 := held(1), held(10)
	t.Logf("the merger holds %d KiB after 100,000 rows, %d KiB after 1,000,000 rows", h1>>10, h10>>10)
	assert.Less(t, float64(h10), float64(h1)*1.1+float64(256<<10), "ten times the rows, the same distinct data")
}
