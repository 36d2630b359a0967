package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/internal/jsonout"
)

// writeJSON writes v as indented JSON with a final newline. HTML characters are not escaped,
// so paths and descriptions read as they are.
func writeJSON(w io.Writer, v any) error {
	return jsonout.Write(w, v)
}

// progressBar draws one line on stderr while a long walk runs, and only when stderr is a
// terminal: scripts and CI logs get nothing. It waits half a second before drawing so that
// short runs never show it, and redraws at most ten times a second.
type progressBar struct {
	w       io.Writer
	enabled bool
	start   time.Time
	mu      sync.Mutex
	last    time.Time
	drawn   bool
}

func newProgressBar(a *app) *progressBar {
	return &progressBar{w: a.stderr, enabled: a.stderrIsTTY, start: time.Now()}
}

func (p *progressBar) update(pr edrpolicy.Progress) {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.start) < 500*time.Millisecond || now.Sub(p.last) < 100*time.Millisecond && pr.Files != pr.TotalFiles {
		return
	}
	p.last = now
	pct := 100.0
	if pr.TotalBytes > 0 {
		pct = 100 * float64(pr.Bytes) / float64(pr.TotalBytes)
	}
	const width = 30
	fill := int(pct / 100 * width)
	line := fmt.Sprintf("\r[%s%s] %5.1f%%  %d/%d files  %s/%s ", strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		pct, pr.Files, pr.TotalFiles, humanBytes(pr.Bytes), humanBytes(pr.TotalBytes))
	fmt.Fprint(p.w, line)
	p.drawn = true
}

func (p *progressBar) finish() {
	if p == nil || !p.drawn {
		return
	}
	fmt.Fprint(p.w, "\r\033[K")
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
