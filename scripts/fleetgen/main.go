// Command fleetgen writes synthetic osqueryd results for benchmarking `edrpolicy generate
// --evidence` (scripts/bench-fleet.sh): HOSTS hosts × FILES files × REPEAT runs of the
// query pack's Windows files query, in osqueryd's event form (one JSON line per row, as
// osqueryd logs differential results) or snapshot form (one line per host and run).
//
// The install is C:\Program Files\CrashPlan with FILES files in 100 folders; 80% of the hosts
// run 11.2.0 and 20% run 11.1.0 (each version its own digests); every 97th host carries one
// file no other host has (an outlier). The output is deterministic.
//
//	go run ./scripts/fleetgen -hosts 1000 -files 10000 > day.log      # 10,000,000 rows
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strconv"
)

func main() {
	hosts := flag.Int("hosts", 100, "number of hosts")
	files := flag.Int("files", 10000, "number of files of the install")
	repeat := flag.Int("repeat", 1, "runs of the query per host (a snapshot query logs every run)")
	form := flag.String("form", "event", "event or snapshot")
	flag.Parse()
	if *hosts < 1 || *files < 1 || *repeat < 1 || (*form != "event" && *form != "snapshot") {
		flag.Usage()
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	g := newGen(*files)
	for r := 0; r < *repeat; r++ {
		for h := 0; h < *hosts; h++ {
			g.host(w, *form, h, *files)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "fleetgen:", err)
		os.Exit(1)
	}
}

type gen struct {
	paths   []string
	digests [2][]string // per version
	buf     []byte
}

var versions = [2]string{"11.2.0.0", "11.1.0.0"}

func newGen(files int) *gen {
	g := &gen{}
	for f := 0; f < files; f++ {
		name := fmt.Sprintf(`C:\\Program Files\\CrashPlan\\lib%02d\\module%05d.dll`, f%100, f)
		if f == 0 {
			name = `C:\\Program Files\\CrashPlan\\CrashPlanService.exe`
		}
		g.paths = append(g.paths, name)
		for v := range versions {
			s := sha256.Sum256([]byte(fmt.Sprintf("%s %d", versions[v], f)))
			g.digests[v] = append(g.digests[v], hex.EncodeToString(s[:]))
		}
	}
	return g
}

func (g *gen) host(w *bufio.Writer, form string, h, files int) {
	v := 0
	if h%5 == 4 {
		v = 1
	}
	host := fmt.Sprintf("ws-%05d", h)
	if form == "snapshot" {
		w.WriteString(`{"snapshot":[`)
	}
	for f := 0; f < files; f++ {
		digest := g.digests[v][f]
		if h%97 == 0 && f == files/2 {
			s := sha256.Sum256([]byte(host))
			digest = hex.EncodeToString(s[:])
		}
		b := g.buf[:0]
		if form == "event" {
			b = append(b, `{"name":"pack_edrpolicy_code42_windows_files_01","hostIdentifier":"`...)
			b = append(b, host...)
			b = append(b, `","calendarTime":"Mon Jan  5 10:00:00 2026 UTC","unixTime":1767607200,"epoch":0,"counter":0,"numerics":false,"columns":`...)
		} else if f > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"path":"`...)
		b = append(b, g.paths[f]...)
		b = append(b, `","size":"`...)
		b = strconv.AppendInt(b, int64(4096+f), 10)
		b = append(b, `","file_version":"`...)
		b = append(b, versions[v]...)
		b = append(b, `","product_version":"`...)
		b = append(b, versions[v]...)
		b = append(b, `","sha256":"`...)
		b = append(b, digest...)
		b = append(b, `","authenticode_result":"trusted","hostname":"`...)
		b = append(b, host...)
		b = append(b, `"}`...)
		if form == "event" {
			b = append(b, `,"action":"added"}`+"\n"...)
		}
		w.Write(b)
		g.buf = b
	}
	if form == "snapshot" {
		fmt.Fprintf(w, `],"action":"snapshot","name":"pack_edrpolicy_code42_windows_files_01","hostIdentifier":"%s","unixTime":1767607200}`+"\n", host)
	}
}
