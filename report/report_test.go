package report_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/plan"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/output"
	"github.com/edrpolicy/edrpolicy/report"
	"github.com/edrpolicy/edrpolicy/signers"
)

const sampleDir = "../examples/sample"

var allVendors = []string{"crowdstrike", "defender", "sentinelone"}

func TestFormatFor(t *testing.T) {
	for name, want := range map[string]report.Format{"r.md": report.Markdown, "a/b/R.MARKDOWN": report.Markdown, "x.html": report.HTML, "X.HTM": report.HTML} {
		got, err := report.FormatFor(name)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
	for _, bad := range []string{"r.txt", "report", "r.html.bak", "r.pdf", ""} {
		_, err := report.FormatFor(bad)
		assert.Error(t, err, bad)
	}
}

// TestFromPlan converts exporters/plan's per-console plan: an indicator in two Defender files
// is one console entry; a changed expiry is an update; another type is another entry.
func TestFromPlan(t *testing.T) {
	e := func(v, typ, val, file, expires string) exporters.Entry {
		return exporters.Entry{Vendor: v, Kind: exporters.EntryHash, Type: typ, Value: val, File: file, Expires: expires}
	}
	old := []exporters.Entry{
		e("defender", "FileSha256", "aa", "defender-indicators-001.csv", ""),
		e("defender", "FileSha256", "aa", "defender-indicators.json", ""),
		e("defender", "FileSha256", "bb", "defender-indicators-001.csv", ""),
		e("defender", "FileSha256", "ee", "defender-indicators.json", "2027-01-01T00:00:00Z"),
		e("crowdstrike", "sha256", "bb", "crowdstrike-ioc.json", ""),
	}
	cur := []exporters.Entry{
		e("defender", "FileSha256", "aa", "defender-indicators-001.csv", ""),
		e("defender", "FileSha256", "aa", "defender-indicators.json", ""),
		e("defender", "FileSha256", "cc", "defender-indicators-001.csv", ""),
		e("defender", "FileSha1", "bb", "defender-indicators-001.csv", ""),
		e("defender", "FileSha256", "ee", "defender-indicators.json", "2028-01-01T00:00:00Z"),
	}
	got := report.FromPlan(plan.Compute("old", "new", old, cur, []string{"defender", "crowdstrike"}))
	require.Len(t, got, 2)
	vals := func(l []report.PlanEntry) []string {
		var out []string
		for _, x := range l {
			out = append(out, x.Type+" "+x.Value)
		}
		return out
	}
	d := got[0]
	assert.Equal(t, "defender", d.Vendor)
	assert.ElementsMatch(t, []string{"FileSha1 bb", "FileSha256 cc"}, vals(d.Add))
	assert.Equal(t, []string{"FileSha256 bb"}, vals(d.Delete))
	assert.Equal(t, []string{"FileSha256 aa"}, vals(d.Keep))
	assert.Equal(t, []string{"defender-indicators-001.csv", "defender-indicators.json"}, d.Keep[0].Files, "one console entry, two files")
	require.Len(t, d.Update, 1)
	assert.Equal(t, "ee", d.Update[0].Value)
	assert.Equal(t, "expires 2027-01-01T00:00:00Z → 2028-01-01T00:00:00Z", d.Update[0].Changes)
	assert.Empty(t, got[1].Add)
	assert.Equal(t, []string{"sha256 bb"}, vals(got[1].Delete))
	assert.Nil(t, report.FromPlan(nil))
}

// sampleSet generates the sample install (tree), exports every vendor and writes the output
// set into a temporary folder, like generate --vendor ... --out DIR.
func sampleSet(t *testing.T, tree string, prev *edrpolicy.Policy) (string, *edrpolicy.Policy, *exporters.Result) {
	t.Helper()
	prof, err := profile.BuiltIn("code42")
	require.NoError(t, err)
	pem, err := os.ReadFile(filepath.Join(sampleDir, "ca.pem"))
	require.NoError(t, err)
	roots, _, err := signers.ParseRoots(pem)
	require.NoError(t, err)
	pol, err := edrpolicy.Generate(context.Background(), edrpolicy.GenerateOptions{
		Roots: []string{filepath.Join(sampleDir, tree)}, AppVersion: edrpolicy.VersionAuto,
		Inspect: edrpolicy.InspectOptions{Verify: signers.Options{Roots: roots}, Digests: hashing.Algorithms{SHA1: true}},
		Decide:  edrpolicy.DecideOptions{Profile: prof, OS: "windows", Level: edrpolicy.CriterionSigner, Previous: prev, PinSigners: []string{"ea85936ab6f5ee86cd20bb9323ef87bd4220a617"}},
	})
	require.NoError(t, err)
	return writeSet(t, pol)
}

func writeSet(t *testing.T, pol *edrpolicy.Policy) (string, *edrpolicy.Policy, *exporters.Result) {
	t.Helper()
	reg, err := exporters.Configured(exporters.Vendors{SentinelOne: sentinelone.Options{Tenant: true}})
	require.NoError(t, err)
	res, err := exporters.Collect(reg, pol, allVendors, exporters.Options{})
	require.NoError(t, err)
	data, err := pol.JSON()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, output.WriteSet(dir, append(res.Files, output.File{Name: output.PolicyFileName, Data: data})))
	return dir, pol, res
}

// parsed is an HTML report parsed with a real HTML5 parser (golang.org/x/net/html, the
// tokenizer and tree builder browsers' algorithm specifies).
type parsed struct {
	root *html.Node
}

func parseHTML(t *testing.T, data []byte) parsed {
	t.Helper()
	n, err := html.Parse(bytes.NewReader(data))
	require.NoError(t, err)
	return parsed{n}
}

func (p parsed) all(match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(p.root)
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	for _, c := range strings.Fields(v) {
		if c == class {
			return true
		}
	}
	return false
}

func (p parsed) elems(tag, class string) []*html.Node {
	return p.all(func(n *html.Node) bool {
		return n.Type == html.ElementNode && n.Data == tag && (class == "" || hasClass(n, class))
	})
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// selfContained asserts that nothing in the page loads anything: no script, no external
// style sheet, image, frame, object or font, no src attribute, every link a fragment of the
// page itself, no url() or @import in the inline style, no event handler attribute.
func selfContained(t *testing.T, p parsed) {
	t.Helper()
	for _, tag := range []string{"script", "link", "img", "iframe", "object", "embed", "base", "image", "use", "foreignObject", "audio", "video", "source", "form"} {
		assert.Empty(t, p.elems(tag, ""), "<%s> in the report", tag)
	}
	for _, n := range p.all(func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		for _, a := range n.Attr {
			assert.NotEqual(t, "src", a.Key, "<%s src=%q>", n.Data, a.Val)
			assert.False(t, strings.HasPrefix(strings.ToLower(a.Key), "on"), "<%s %s=...>", n.Data, a.Key)
			if a.Key == "href" || a.Key == "xlink:href" {
				assert.True(t, strings.HasPrefix(a.Val, "#"), "<%s href=%q>: only links inside the page", n.Data, a.Val)
			}
		}
	}
	styles := p.elems("style", "")
	require.Len(t, styles, 1, "one inline style sheet")
	css := text(styles[0])
	assert.NotContains(t, css, "url(")
	assert.NotContains(t, css, "@import")
	assert.Contains(t, css, "@media print")
}

func TestHTMLSample(t *testing.T) {
	dir, pol, res := sampleSet(t, "windows", nil)
	in, err := report.Load(dir)
	require.NoError(t, err)
	assert.Empty(t, in.Problems)
	out, err := report.Render(in, report.HTML)
	require.NoError(t, err)
	p := parseHTML(t, out)
	selfContained(t, p)

	// Every table row is there: one per vendor, per executable of the coverage, per rule,
	// per rule file, per warning, per output file.
	assert.Len(t, p.elems("tr", "vendor"), 3)
	nExe := 0
	for _, v := range res.Coverage.Vendors {
		nExe = max(nExe, len(v.Executables))
	}
	require.Equal(t, 4, nExe, "the sample has four executables")
	rows := p.elems("tr", "exe")
	require.Len(t, rows, nExe)
	assert.Len(t, p.elems("div", "rule"), len(pol.Rules))
	nFiles := 0
	for _, r := range pol.Rules {
		nFiles += len(r.Files)
	}
	assert.Len(t, p.elems("tr", "file"), nFiles)
	assert.Len(t, p.elems("tr", "warning"), len(pol.Warnings))
	assert.Len(t, p.elems("tr", "outfile"), len(in.Files))
	assert.Len(t, p.elems("svg", ""), 3, "one chart per vendor")

	// The matrix row of the unsigned uninstaller: a hash entry for every vendor, and the
	// pinned signer's files: a certificate entry where the vendor takes one.
	var uninstall, dll *html.Node
	for _, r := range rows {
		switch {
		case strings.Contains(text(r), `C:\Program Files\CrashPlan\Uninstall.exe`):
			uninstall = r
		case strings.Contains(text(r), `C:\Program Files\CrashPlan\CrashPlanNative.dll`):
			dll = r
		}
	}
	require.NotNil(t, uninstall)
	require.NotNil(t, dll)
	cells := p.cells(uninstall)
	require.Len(t, cells, 5)
	for _, c := range cells[2:] {
		assert.True(t, strings.HasPrefix(c, "hash"), c)
	}
	// crowdstrike, defender: the certificate; sentinelone: no publisher-name exclusion
	// without --force, so the file's hash.
	dc := p.cells(dll)
	assert.True(t, strings.HasPrefix(dc[2], "certificate"), dc[2])
	assert.True(t, strings.HasPrefix(dc[3], "certificate"), dc[3])
	assert.True(t, strings.HasPrefix(dc[4], "hash (fallback)"), dc[4])
	// Full hashes and the signer's thumbprints are in the rules.
	body := text(p.root)
	for _, r := range pol.Rules {
		if r.Criterion == edrpolicy.CriterionHash {
			assert.Contains(t, body, r.Value)
		}
		if r.Signer != nil {
			assert.Contains(t, body, r.Signer.ThumbprintSHA256)
			assert.Contains(t, body, r.Signer.Issuer)
			assert.Contains(t, body, "chain trusted to the roots root, leaf pinned, no timestamp")
		}
	}
	// Deterministic, and the same from memory as from the folder.
	again, err := report.Render(in, report.HTML)
	require.NoError(t, err)
	assert.Equal(t, out, again)
	mem, err := report.Render(&report.Input{Policy: pol, Coverage: res.Coverage, Files: in.Files}, report.HTML)
	require.NoError(t, err)
	assert.Equal(t, string(out), string(mem))
}

// cells returns the text of each td of a row.
func (p parsed) cells(row *html.Node) []string {
	var out []string
	for c := row.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "td" {
			out = append(out, text(c))
		}
	}
	return out
}

func TestMarkdownSample(t *testing.T) {
	dir, pol, _ := sampleSet(t, "windows", nil)
	in, err := report.Load(dir)
	require.NoError(t, err)
	out, err := report.Render(in, report.Markdown)
	require.NoError(t, err)
	s := string(out)
	for _, h := range []string{"## Summary", "## Coverage per vendor", "### Matrix", "## Rules", "## Warnings (" + strconv.Itoa(len(pol.Warnings)) + ")", "## Output set"} {
		assert.Contains(t, s, "\n"+h+"\n", h)
	}
	assert.Contains(t, s, "| **Version** | 11.1.0 (from pe product\\_version of CrashPlanService.exe) |")
	assert.Contains(t, s, `| C:\\Program Files\\CrashPlan\\Uninstall.exe | `)
	// Every table row has as many unescaped cell separators as its header.
	checkTables(t, s)
}

// checkTables checks that every row of every Markdown table has the header's number of
// cells (a '|' inside a value would add one unless escaped).
func checkTables(t *testing.T, s string) {
	t.Helper()
	want := -1
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "|") {
			want = -1
			continue
		}
		n := strings.Count(line, "|") - strings.Count(line, `\|`)
		if want < 0 {
			want = n
			continue
		}
		assert.Equal(t, want, n, "row %q", line)
	}
}

// hostile are file names an attacker could give the files of an install.
var hostile = []string{
	`C:\App\<script>alert(1)</script>.exe`,
	`C:\App\"><img src=x onerror=alert(1)>.exe`,
	`C:\App\a|b**c**[x](http://evil.example/)` + "`code`.exe",
	"C:\\App\\line\nbreak\r.exe",
	"C:\\App\\exe.\u202egnp", // right-to-left override: shows as "…png.exe" unescaped
	`C:\App\&lt;entity&gt;.exe`,
	`C:\App\</td></tr></table><h1>x</h1>.exe`,
}

func hostilePolicy() *edrpolicy.Policy {
	p := &edrpolicy.Policy{SchemaVersion: 1, Profile: "generic<b>", OS: "windows", AppVersion: "1.0<i>", Level: edrpolicy.CriterionHash,
		Warnings: []edrpolicy.Warning{{Code: "note", Message: "<script>alert(2)</script>", Files: hostile}}}
	for i, f := range hostile {
		v := strings.Repeat(string("abcdef0123456789"[i]), 64)
		p.Rules = append(p.Rules, edrpolicy.Rule{Criterion: edrpolicy.CriterionHash, Value: v, Platform: "windows", Role: "executable",
			Files: []string{f}, Reason: "unsigned <b>" + f, Source: "inspected"})
	}
	return p
}

func TestHostileNames(t *testing.T) {
	pol := hostilePolicy()
	_, _, res := writeSet(t, pol)
	in := &report.Input{Policy: pol, Coverage: res.Coverage}
	out, err := report.Render(in, report.HTML)
	require.NoError(t, err)
	p := parseHTML(t, out)
	selfContained(t, p)
	assert.Empty(t, p.elems("i", ""), "no markup from a value")
	assert.Empty(t, p.elems("b", ""))
	assert.Len(t, p.elems("h1", ""), 1)
	assert.Len(t, p.elems("div", "rule"), len(hostile))
	assert.Len(t, p.elems("tr", "exe"), len(hostile))
	body := text(p.root)
	assert.Contains(t, body, `C:\App\<script>alert(1)</script>.exe`, "shown as text")
	assert.Contains(t, body, `C:\App\line\nbreak\r.exe`, "line breaks made visible")
	assert.Contains(t, body, `exe.\u202egnp`, "the override made visible")
	assert.NotContains(t, string(out), "\u202e")
	assert.Contains(t, body, `C:\App\&lt;entity&gt;.exe`, "an entity in a name stays text")

	md, err := report.Render(in, report.Markdown)
	require.NoError(t, err)
	s := string(md)
	// Every markup character of a value is escaped: no '<', '[', ']', '|', '*', '`' without
	// its backslash (the report's own markup is **bold** labels and <br> in digest cells).
	bare := regexp.MustCompile("(^|[^\\\\])[<\\[\\]`]")
	for _, line := range strings.Split(strings.ReplaceAll(s, "<br>", ""), "\n") {
		assert.False(t, bare.MatchString(line), "unescaped markup in %q", line)
	}
	assert.NotContains(t, s, "\u202e")
	assert.Contains(t, s, `C:\\App\\\<script\>alert(1)\</script\>.exe`)
	checkTables(t, s)
}

func TestLoadProblems(t *testing.T) {
	dir, _, _ := sampleSet(t, "windows", nil)
	// A vendor file edited after it was written, and one removed.
	f := filepath.Join(dir, "defender-indicators-001.csv")
	data, err := os.ReadFile(f)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f, append(data, "FileSha256,00,,Allowed\n"...), 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, "crowdstrike-ioc.csv")))
	in, err := report.Load(dir)
	require.NoError(t, err)
	require.Len(t, in.Problems, 2)
	assert.Contains(t, in.Problems[0], "crowdstrike-ioc.csv: listed in MANIFEST.sha256 but")
	assert.Contains(t, in.Problems[1], "defender-indicators-001.csv: SHA-256 ")
	out, err := report.Render(in, report.HTML)
	require.NoError(t, err)
	p := parseHTML(t, out)
	assert.Len(t, p.elems("li", "gap"), 2)

	// No manifest: one problem, the report is still made; no policy: an error.
	require.NoError(t, os.Remove(filepath.Join(dir, output.ManifestName)))
	in, err = report.Load(dir)
	require.NoError(t, err)
	require.Len(t, in.Problems, 1)
	assert.Contains(t, in.Problems[0], "the files are not verified")
	_, err = report.Load(t.TempDir())
	assert.Error(t, err)
}

func TestPlanSampleUpgrade(t *testing.T) {
	_, v1, _ := sampleSet(t, "windows", nil)
	dir, v2, res := sampleSet(t, "v2/windows", v1)
	reg := exporters.Default()
	old, err := plan.FromPolicy(reg, v1, allVendors, exporters.Options{})
	require.NoError(t, err)
	cur, _, err := plan.FromDir(reg, dir)
	require.NoError(t, err)
	vps := report.FromPlan(plan.Compute("v1", dir, old, cur, allVendors))
	require.Len(t, vps, 3)
	for _, vp := range vps {
		// The two new builds carry the renewed certificate, which is not pinned: their
		// narrowed signer rules fall back to hash entries (to add); the DLL's certificate
		// entry and the uninstaller's hash are unchanged (to keep); nothing of v1 goes,
		// except for SentinelOne, which wrote v1's pinned signer as its files' hashes (no
		// publisher-name exclusion without --force): the two old builds' hashes go.
		assert.Len(t, vp.Add, 2, vp.Vendor)
		if vp.Vendor == "sentinelone" {
			assert.Len(t, vp.Delete, 2, vp.Vendor)
		} else {
			assert.Empty(t, vp.Delete, vp.Vendor)
		}
		assert.NotEmpty(t, vp.Keep, vp.Vendor)
		for _, a := range vp.Add {
			assert.Equal(t, exporters.EntryHash, a.Kind, vp.Vendor)
		}
	}
	out, err := report.Render(&report.Input{Policy: v2, Coverage: res.Coverage, Plan: vps, PlanNote: "test"}, report.HTML)
	require.NoError(t, err)
	p := parseHTML(t, out)
	assert.Len(t, p.elems("tr", "plan-add"), 6)
	assert.Len(t, p.elems("tr", "plan-delete"), 2)
	assert.NotEmpty(t, p.elems("tr", "plan-keep"))
}
