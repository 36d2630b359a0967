package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
)

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	// Not a terminal: nothing is ever drawn.
	off := newProgressBar(&app{stderr: &buf})
	off.start = time.Now().Add(-time.Minute)
	off.update(edrpolicy.Progress{Files: 1, TotalFiles: 2, Bytes: 1, TotalBytes: 2})
	off.finish()
	assert.Empty(t, buf.String())

	// A terminal, but a short run: nothing either (the bar waits half a second).
	on := newProgressBar(&app{stderr: &buf, stderrIsTTY: true})
	on.update(edrpolicy.Progress{Files: 1, TotalFiles: 4, Bytes: 512, TotalBytes: 2048})
	on.finish()
	assert.Empty(t, buf.String())

	// A long run on a terminal: one line, redrawn in place, then cleared.
	on.start = time.Now().Add(-time.Second)
	on.update(edrpolicy.Progress{Files: 2, TotalFiles: 4, Bytes: 3 << 20, TotalBytes: 6 << 20})
	assert.Equal(t, "\r[===============               ]  50.0%  2/4 files  3.0 MiB/6.0 MiB ", buf.String())
	on.update(edrpolicy.Progress{Files: 3, TotalFiles: 4, Bytes: 4 << 20, TotalBytes: 6 << 20}) // throttled
	assert.NotContains(t, buf.String(), "3/4 files")
	on.update(edrpolicy.Progress{Files: 4, TotalFiles: 4, Bytes: 6 << 20, TotalBytes: 6 << 20}) // the last one always draws
	assert.Contains(t, buf.String(), "100.0%  4/4 files")
	on.finish()
	assert.True(t, bytes.HasSuffix(buf.Bytes(), []byte("\r\033[K")))
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB"} {
		assert.Equal(t, want, humanBytes(n))
	}
}
