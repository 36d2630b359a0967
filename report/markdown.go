package report

import (
	"bytes"
	"fmt"
	"strings"
)

// md escapes text for Markdown (CommonMark and GitHub tables): every character that could
// start markup inside a line (emphasis, code, links and images, HTML and entities, table
// cells, strike-through) gets a backslash, so a file name is shown as it is and adds nothing
// to the document. The text has already been through safetext.Escape, so it holds no line
// break, and it is never at the start of a line, where '-', '+', '1.' would start a list.
func md(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune("\\`*_[]<>|~&#", c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// mdRow writes one table row; cells are escaped by the caller.
func mdRow(b *bytes.Buffer, cells ...string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

func mdHeader(b *bytes.Buffer, cells ...string) {
	mdRow(b, cells...)
	sep := make([]string, len(cells))
	for i := range sep {
		sep[i] = "---"
	}
	mdRow(b, sep...)
}

func renderMarkdown(m *model) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", md(m.Title))
	if len(m.Problems) > 0 {
		b.WriteString("## Problems with the output set\n\n")
		for _, p := range m.Problems {
			fmt.Fprintf(&b, "- **%s**\n", md(p))
		}
		b.WriteString("\n")
	}
	b.WriteString("## Summary\n\n")
	mdHeader(&b, "", "")
	for _, s := range m.Summary {
		mdRow(&b, "**"+md(s.K)+"**", md(s.V))
	}
	b.WriteString("\n")
	mdCoverage(&b, m)
	mdRules(&b, m)
	mdWarnings(&b, m)
	mdPlan(&b, m)
	if len(m.Files) > 0 {
		b.WriteString("## Output set\n\n")
		mdHeader(&b, "File", "SHA-256")
		for _, f := range m.Files {
			mdRow(&b, md(f.K), md(f.V))
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func mdCoverage(b *bytes.Buffer, m *model) {
	b.WriteString("## Coverage per vendor\n\n")
	if len(m.Vendors) == 0 {
		b.WriteString("No vendor files were written (no coverage.json): the matrix needs vendor files.\n\n")
		return
	}
	mdHeader(b, "Vendor", "Executables", "Hash", "Certificate", "Path", "Fallback", "NOT COVERED")
	for _, v := range m.Vendors {
		mdRow(b, md(v.Name), fmt.Sprint(v.Executables), fmt.Sprint(v.Hash), fmt.Sprint(v.Certificate), fmt.Sprint(v.Path), fmt.Sprint(v.Fallback), fmt.Sprint(v.NotCov))
	}
	b.WriteString("\n### Matrix\n\n")
	head := append([]string{"Executable", "Rule"}, m.MatrixCols...)
	for i := 2; i < len(head); i++ {
		head[i] = md(head[i])
	}
	mdHeader(b, head...)
	for _, r := range m.Matrix {
		cells := []string{md(r.File), md(fmt.Sprintf("rules[%d]", r.Rule)) + " (" + md(r.Criterion) + ")"}
		for _, c := range r.Cells {
			kind := md(c.Kind)
			switch c.Class {
			case "gap":
				kind = "**NOT COVERED**"
			case "fallback":
				kind += " (fallback)"
			}
			cells = append(cells, kind+": "+md(c.Note))
		}
		mdRow(b, cells...)
	}
	b.WriteString("\n")
}

func mdRules(b *bytes.Buffer, m *model) {
	b.WriteString("## Rules\n\n")
	for _, r := range m.Rules {
		fmt.Fprintf(b, "### rules\\[%d\\]: %s (%s)\n\n", r.N, md(r.Criterion), md(r.Role))
		mdHeader(b, "", "")
		for _, f := range ruleFields(r) {
			mdRow(b, "**"+md(f.K)+"**", md(f.V))
		}
		b.WriteString("\n")
		mdHeader(b, "File", "SHA-256", "Signature")
		for _, f := range r.Files {
			digest := md(orDash(f.SHA256))
			if f.Other != "" {
				digest += "<br>" + md(f.Other)
			}
			mdRow(b, md(f.Path), digest, md(orDash(f.Signature)))
		}
		b.WriteString("\n")
		if len(r.Signer) > 0 {
			mdHeader(b, "Signer", "")
			for _, s := range r.Signer {
				mdRow(b, md(s.K), md(s.V))
			}
			b.WriteString("\n")
		}
	}
}

// ruleFields are the rule's facts in the order both renderers show them (empty ones left
// out).
func ruleFields(r ruleView) []kv {
	var out []kv
	for _, f := range []kv{{"Value", r.Value}, {"Platform", r.Platform}, {"Match", r.Match}, {"Narrowed to file name", r.FileName},
		{"Narrowed to signing identifier", r.SigningID}, {"Team ID", r.TeamID}, {"Reason", r.Reason}, {"Source", r.Source},
		{"Confidence", r.Confidence}, {"Kept from version", r.AppVersion}, {"Owner", r.Owner}, {"Justification", r.Just},
		{"Scope", r.Scope}, {"First seen", r.FirstSeen}, {"Expires", r.Expires}} {
		if f.V != "" {
			out = append(out, f)
		}
	}
	return out
}

func mdWarnings(b *bytes.Buffer, m *model) {
	fmt.Fprintf(b, "## Warnings (%d)\n\n", len(m.Warnings))
	if len(m.Warnings) > 0 {
		mdHeader(b, "Code", "Message", "Files")
		for _, w := range m.Warnings {
			mdRow(b, md(w.Code), md(w.Message), md(strings.Join(w.Files, "; ")))
		}
		b.WriteString("\n")
	}
	if len(m.Superseded) > 0 {
		b.WriteString("### Superseded rules of the previous policy\n\n")
		mdHeader(b, "Criterion", "Value", "Version", "Replaced by", "Kept", "Files", "Reason")
		for _, s := range m.Superseded {
			mdRow(b, md(s.Criterion), md(s.Value), md(s.AppVersion), md(orDash(s.By)), fmt.Sprint(s.Kept), md(strings.Join(s.Files, "; ")), md(s.Reason))
		}
		b.WriteString("\n")
	}
}

func mdPlan(b *bytes.Buffer, m *model) {
	if !m.HasPlan {
		return
	}
	b.WriteString("## Console changes against the previous export\n\n")
	fmt.Fprintf(b, "%s\n\n", md(m.PlanNote))
	for _, p := range m.Plan {
		fmt.Fprintf(b, "### %s: %s\n\n", md(p.Vendor), md(p.Text))
		for _, part := range []struct {
			name string
			rows []planRow
		}{{"Add", p.Add}, {"Delete", p.Delete}, {"Update", p.Update}, {"Keep", p.Keep}} {
			if len(part.rows) == 0 {
				continue
			}
			mdHeader(b, part.name, "Type", "Value", "In files", "Platforms, match, changes")
			for _, r := range part.rows {
				mdRow(b, part.name, md(r.Type), md(r.Value), md(r.Files), md(orDash(r.Note)))
			}
			b.WriteString("\n")
		}
	}
}
