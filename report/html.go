package report

import (
	"bytes"
	"html/template"
)

// The HTML report is one file: inline CSS (with print styles) and inline SVG, no script, no
// external style sheet, font, image or link, so that it opens the same offline, in a mail
// client or an archive, and prints well. html/template escapes every value.
var page = template.Must(template.New("report").Funcs(template.FuncMap{"fields": ruleFields}).Parse(pageHTML))

func renderHTML(m *model) ([]byte, error) {
	var b bytes.Buffer
	if err := page.Execute(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
:root { --ok: #2e7d32; --fallback: #b26a00; --gap: #c62828; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328; margin: 2rem auto; max-width: 80rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
table.kv th { width: 14rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .86em; overflow-wrap: anywhere; word-break: break-all; }
.ok { color: var(--ok); font-weight: 600; }
.fallback { color: var(--fallback); font-weight: 600; }
.gap { color: var(--gap); font-weight: 700; }
.na { color: var(--muted); }
.note { color: var(--muted); font-size: .86em; display: block; overflow-wrap: anywhere; word-break: break-all; }
#matrix { table-layout: fixed; }
#matrix th:first-child { width: 24%; } #matrix th:nth-child(2) { width: 4.5rem; }
td { overflow-wrap: anywhere; }
#vendors td:first-child { white-space: nowrap; } svg { max-width: 100%; height: auto; }
.problems { border: 2px solid var(--gap); padding: .5rem 1rem; }
.rule { border: 1px solid var(--line); border-radius: 6px; padding: .2rem .8rem .6rem; margin: .8rem 0; }
svg rect.ok { fill: var(--ok); } svg rect.fallback { fill: var(--fallback); } svg rect.gap { fill: var(--gap); } svg rect.bg { fill: #eaeef2; }
.legend span { margin-right: 1rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 9pt; }
  h2 { break-after: avoid; }
  .rule, tr { break-inside: avoid; }
  th { background: #eee !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  svg rect { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  @page { margin: 12mm; }
}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Problems}}<section class="problems" id="problems"><h2>Problems with the output set</h2><ul>{{range .Problems}}<li class="gap">{{.}}</li>{{end}}</ul></section>{{end}}
<section id="summary"><h2>Summary</h2>
<table class="kv">{{range .Summary}}<tr><th>{{.K}}</th><td>{{.V}}</td></tr>
{{end}}</table></section>
<section id="coverage"><h2>Coverage per vendor</h2>
{{if not .Vendors}}<p>No vendor files were written (no coverage.json): the matrix needs <code>--vendor</code>.</p>{{else}}
<table id="vendors"><tr><th>Vendor</th><th>Chart</th><th>Executables</th><th>Hash</th><th>Certificate</th><th>Path</th><th>Fallback</th><th>NOT COVERED</th></tr>
{{range .Vendors}}<tr class="vendor"><td>{{.Name}}</td><td><svg width="{{.Chart.Width}}" height="{{.Chart.Height}}" viewBox="0 0 {{.Chart.Width}} {{.Chart.Height}}" role="img" aria-label="{{.Chart.Label}}"><title>{{.Chart.Label}}</title><rect class="bg" x="0" y="0" width="{{.Chart.Width}}" height="{{.Chart.Height}}"></rect>{{range .Chart.Segments}}<rect class="{{.Class}}" x="{{.X}}" y="0" width="{{.W}}" height="18"><title>{{.Title}}</title></rect>{{end}}</svg></td><td>{{.Executables}}</td><td>{{.Hash}}</td><td>{{.Certificate}}</td><td>{{.Path}}</td><td>{{.Fallback}}</td><td{{if .NotCov}} class="gap"{{end}}>{{.NotCov}}</td></tr>
{{end}}</table>
<p class="legend"><span class="ok">■ covered as the rule says</span><span class="fallback">■ covered by a fallback (another form)</span><span class="gap">■ NOT COVERED</span></p>
<h3>Matrix: each executable × each vendor</h3>
<table id="matrix"><tr><th>Executable</th><th>Rule</th>{{range .MatrixCols}}<th>{{.}}</th>{{end}}</tr>
{{range .Matrix}}<tr class="exe"><td><code>{{.File}}</code>{{if .SHA256}}<span class="note mono">{{.SHA256}}</span>{{end}}</td><td><a href="#rule-{{.Rule}}">rules[{{.Rule}}]</a><span class="note">{{.Criterion}}</span></td>{{range .Cells}}<td><span class="{{.Class}}">{{.Kind}}</span>{{if eq .Class "fallback"}} <span class="fallback">(fallback)</span>{{end}}<span class="note">{{.Note}}</span></td>{{end}}</tr>
{{end}}</table>{{end}}</section>
<section id="rules"><h2>Rules ({{len .Rules}})</h2>
{{range .Rules}}<div class="rule" id="rule-{{.N}}"><h3>rules[{{.N}}]: {{.Criterion}} ({{.Role}})</h3>
<table class="kv">{{range fields .}}<tr><th>{{.K}}</th><td>{{.V}}</td></tr>{{end}}</table>
<table class="files"><tr><th>File</th><th>SHA-256</th><th>Signature</th></tr>
{{range .Files}}<tr class="file"><td><code>{{.Path}}</code></td><td><code>{{.SHA256}}</code>{{if .Other}}<span class="note mono">{{.Other}}</span>{{end}}</td><td>{{.Signature}}</td></tr>
{{end}}</table>
{{if .Signer}}<table class="kv signer">{{range .Signer}}<tr><th>{{.K}}</th><td><code>{{.V}}</code></td></tr>{{end}}</table>{{end}}
</div>
{{end}}</section>
<section id="warnings"><h2>Warnings ({{len .Warnings}})</h2>
{{if .Warnings}}<table><tr><th>Code</th><th>Message</th><th>Files</th></tr>
{{range .Warnings}}<tr class="warning"><td><code>{{.Code}}</code></td><td>{{.Message}}</td><td>{{range .Files}}<code>{{.}}</code><br>{{end}}</td></tr>
{{end}}</table>{{end}}
{{if .Superseded}}<h3>Superseded rules of the previous policy</h3>
<table id="superseded"><tr><th>Criterion</th><th>Value</th><th>Version</th><th>Replaced by</th><th>Kept</th><th>Files</th><th>Reason</th></tr>
{{range .Superseded}}<tr class="superseded"><td>{{.Criterion}}</td><td><code>{{.Value}}</code></td><td>{{.AppVersion}}</td><td><code>{{.By}}</code></td><td>{{.Kept}}</td><td>{{range .Files}}<code>{{.}}</code><br>{{end}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>{{end}}</section>
{{if .HasPlan}}<section id="plan"><h2>Console changes against the previous export</h2>
<p>{{.PlanNote}}</p>
{{range .Plan}}<h3>{{.Vendor}}: {{.Text}}</h3>
<table class="plan"><tr><th>Change</th><th>Type</th><th>Value</th><th>In files</th><th>Platforms, match, changes</th></tr>
{{range .Add}}<tr class="plan-add"><td class="ok">add</td><td>{{.Type}}</td><td><code>{{.Value}}</code></td><td>{{.Files}}</td><td>{{.Note}}</td></tr>
{{end}}{{range .Delete}}<tr class="plan-delete"><td class="gap">delete</td><td>{{.Type}}</td><td><code>{{.Value}}</code></td><td>{{.Files}}</td><td>{{.Note}}</td></tr>
{{end}}{{range .Update}}<tr class="plan-update"><td class="fallback">update</td><td>{{.Type}}</td><td><code>{{.Value}}</code></td><td>{{.Files}}</td><td>{{.Note}}</td></tr>
{{end}}{{range .Keep}}<tr class="plan-keep"><td>keep</td><td>{{.Type}}</td><td><code>{{.Value}}</code></td><td>{{.Files}}</td><td>{{.Note}}</td></tr>
{{end}}</table>
{{end}}</section>{{end}}
{{if .Files}}<section id="files"><h2>Output set</h2>
<table><tr><th>File</th><th>SHA-256</th></tr>
{{range .Files}}<tr class="outfile"><td><code>{{.K}}</code></td><td><code>{{.V}}</code></td></tr>
{{end}}</table></section>{{end}}
</body>
</html>
`
