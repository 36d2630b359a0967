package report

import "fmt"

// chart is a vendor's coverage as one horizontal stacked bar (inline SVG): executables
// covered as the rule says, covered by a fallback, and not covered.
type chart struct {
	Width, Height int
	Segments      []segment
	Label         string
}

type segment struct {
	X, W  string // SVG coordinates, fixed precision (same bytes every run)
	Class string // ok, fallback, gap
	Title string
}

const chartWidth = 320

func newChart(v vendorView) chart {
	c := chart{Width: chartWidth, Height: 18}
	c.Label = fmt.Sprintf("%s: %d covered, %d by a fallback, %d not covered, of %d executables", v.Name, v.Covered, v.Fallback, v.NotCov, v.Executables)
	if v.Executables == 0 {
		return c
	}
	x := 0
	for _, s := range []struct {
		n          int
		class, txt string
	}{{v.Covered, "ok", "covered"}, {v.Fallback, "fallback", "covered by a fallback"}, {v.NotCov, "gap", "NOT COVERED"}} {
		if s.n == 0 {
			continue
		}
		// Integer widths in tenths of a pixel: no floating-point formatting differences.
		w := s.n * chartWidth * 10 / v.Executables
		c.Segments = append(c.Segments, segment{X: tenths(x), W: tenths(w), Class: s.class, Title: fmt.Sprintf("%d %s", s.n, s.txt)})
		x += w
	}
	return c
}

func tenths(n int) string { return fmt.Sprintf("%d.%d", n/10, n%10) }
