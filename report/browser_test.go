package report_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/report"
)

// chromium returns the headless browser, skipping the test when it is not installed, unless
// EDRPOLICY_CHROMIUM=required (set it in CI once .ci/run installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("EDRPOLICY_CHROMIUM") == "required" {
		t.Fatal("chromium is not installed (apt-get install chromium) and EDRPOLICY_CHROMIUM=required")
	}
	t.Skip("chromium is not installed: the report is not rendered in a browser (apt-get install chromium)")
	return ""
}

// runChromium renders file with headless chromium (no network, no profile of its own).
func runChromium(t *testing.T, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--no-sandbox", "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	out, err := exec.CommandContext(ctx, bin, append(base, args...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// TestHTMLInBrowser renders the sample upgrade's report headless to a PNG and a PDF and checks that the
// browser drew it: the page's size, text on white, and the charts' colours (the inline SVG).
func TestHTMLInBrowser(t *testing.T) {
	bin := chromium(t)
	// The upgrade: the two new builds fall back to hash entries, so the charts have both
	// colours.
	_, v1, _ := sampleSet(t, "windows", nil)
	dir, _, _ := sampleSet(t, "v2/windows", v1)
	in, err := report.Load(dir)
	require.NoError(t, err)
	data, err := report.Render(in, report.HTML)
	require.NoError(t, err)
	work := t.TempDir()
	page := filepath.Join(work, "report.html")
	require.NoError(t, os.WriteFile(page, data, 0o644))

	shot := filepath.Join(work, "report.png")
	runChromium(t, bin, "--window-size=1200,1600", "--hide-scrollbars", "--screenshot="+shot, "file://"+page)
	f, err := os.ReadFile(shot)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(f))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 1200, 1600), img.Bounds())
	counts := colourCounts(img)
	total := 1200 * 1600
	assert.Greater(t, counts["white"], total/2, "mostly white page")
	assert.Greater(t, counts["dark"], total/200, "text was drawn")
	assert.Greater(t, counts["green"], 1000, "the charts' covered segments (#2e7d32)")
	assert.Greater(t, counts["amber"], 1000, "the charts' fallback segments (#b26a00)")
	t.Logf("screenshot %s: %v", shot, counts)

	pdf := filepath.Join(work, "report.pdf")
	runChromium(t, bin, "--no-pdf-header-footer", "--print-to-pdf="+pdf, "file://"+page)
	p, err := os.ReadFile(pdf)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(p, []byte("%PDF-")), "a PDF")
	if _, err := exec.LookPath("pdftoppm"); err == nil {
		out, err := exec.Command("pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", pdf, filepath.Join(work, "page")).CombinedOutput()
		require.NoError(t, err, "%s", out)
		pages, _ := filepath.Glob(filepath.Join(work, "page*.png"))
		require.Len(t, pages, 1)
		pf, err := os.ReadFile(pages[0])
		require.NoError(t, err)
		pimg, err := png.Decode(bytes.NewReader(pf))
		require.NoError(t, err)
		pc := colourCounts(pimg)
		assert.Greater(t, pc["green"], 50, "the chart prints (print-color-adjust: exact)")
	}
}

// colourCounts counts white, dark (text), green and amber pixels.
func colourCounts(img image.Image) map[string]int {
	near := func(c color.Color, r, g, b int) bool {
		cr, cg, cb, _ := c.RGBA()
		d := func(x uint32, y int) int {
			v := int(x>>8) - y
			if v < 0 {
				return -v
			}
			return v
		}
		return d(cr, r) < 24 && d(cg, g) < 24 && d(cb, b) < 24
	}
	out := map[string]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.At(x, y)
			switch {
			case near(c, 255, 255, 255):
				out["white"]++
			case near(c, 0x2e, 0x7d, 0x32):
				out["green"]++
			case near(c, 0xb2, 0x6a, 0x00):
				out["amber"]++
			case near(c, 0x1f, 0x23, 0x28), near(c, 0, 0, 0):
				out["dark"]++
			}
		}
	}
	return out
}
