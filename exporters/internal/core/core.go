// Package core holds what the exporters package and the vendor packages share: the common
// options, the request, the escaping helpers and small building blocks. Package exporters re-exports the
// public parts; this package exists only so that the vendor packages need not import
// exporters (which imports them to build its default registry).
package core

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/jsonout"
)

// Options are the options every exporter shares. It has the fields of exporters.Options,
// which documents them: exporters.Admit converts one into the other, so the two cannot drift
// apart without a compile error. Each vendor's own configuration is given to its exporter at
// construction (crowdstrike.New, sentinelone.New, defender.New).
type Options struct {
	Formats      []string
	Expiration   string
	Digests      map[string]hashing.Digests
	Force        bool
	Guardrails   edrpolicy.GuardrailOptions
	RiskySigners *edrpolicy.RiskySigners
	Interpreters *edrpolicy.Interpreters
}

// Warning codes the exporters use.
const (
	// WarnSkipped: a rule was not exported for this vendor.
	WarnSkipped edrpolicy.WarningCode = "export-skipped"
	// WarnFallback: a rule was exported in a different form than its criterion.
	WarnFallback edrpolicy.WarningCode = "export-fallback"
	// WarnUnconfirmed: part of a written file follows a vendor format no primary source
	// confirms.
	WarnUnconfirmed edrpolicy.WarningCode = "export-unconfirmed"
	// WarnNote: something worth knowing about the vendor's handling.
	WarnNote edrpolicy.WarningCode = "export-note"
)

// Wants reports whether the format kind is asked for.
func (o *Options) Wants(kind string) bool {
	if len(o.Formats) == 0 {
		return true
	}
	for _, f := range o.Formats {
		if f == kind {
			return true
		}
	}
	return false
}

// Expiry returns the expiration of rule r per o.Expiration, or the zero time for none.
func (o *Options) Expiry(r *edrpolicy.Rule) (time.Time, error) {
	switch o.Expiration {
	case "", "none":
		return time.Time{}, nil
	case "rule":
		if r.Expires == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339, r.Expires)
		if err != nil {
			return time.Time{}, fmt.Errorf("expires %q is not RFC 3339: %v", r.Expires, err)
		}
		return t.UTC(), nil
	}
	return ParseExpiration(o.Expiration)
}

// ParseExpiration parses an Options.Expiration date: YYYY-MM-DD (midnight UTC) or RFC 3339.
func ParseExpiration(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("expiration %q: want rule, YYYY-MM-DD or RFC 3339", s)
	}
	return t.UTC(), nil
}

// RuleRef names rule i for messages as check does: rules[i] (the 0-based index into
// policy.json's "rules", as `jq .rules[i]` reads it), then its criterion and value.
func RuleRef(i int, r *edrpolicy.Rule) string {
	return fmt.Sprintf("rules[%d] (%s %q)", i, r.Criterion, r.Value)
}

// Skipped is the warning for a rule a vendor cannot take.
func Skipped(vendor string, i int, r *edrpolicy.Rule, why string) edrpolicy.Warning {
	return edrpolicy.Warning{Code: WarnSkipped, Message: fmt.Sprintf("%s: %s not exported: %s", vendor, RuleRef(i, r), why), Files: r.Files}
}

// Fallback is the warning for a rule exported in another form.
func Fallback(vendor string, i int, r *edrpolicy.Rule, why, used string) edrpolicy.Warning {
	return edrpolicy.Warning{Code: WarnFallback, Message: fmt.Sprintf("%s: %s: %s; fallback used: %s", vendor, RuleRef(i, r), why, used), Files: r.Files}
}

// AppName is the application the policy is for, as descriptions name it.
func AppName(p *edrpolicy.Policy) string {
	var parts []string
	for _, s := range []string{p.Profile, p.Product} {
		if s != "" && (len(parts) == 0 || parts[len(parts)-1] != s) {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return "application"
	}
	return strings.Join(parts, " ")
}

// AppVersion is the policy's application version for descriptions.
func AppVersion(p *edrpolicy.Policy) string {
	if p.AppVersion == "" {
		return "version unknown"
	}
	return p.AppVersion
}

// maxListed is how many files a description names before "(+N more)".
const maxListed = 3

// FileList names up to three of the rule's files.
func FileList(files []string) string {
	if len(files) == 0 {
		return "no files listed"
	}
	n := len(files)
	if n > maxListed {
		n = maxListed
	}
	s := strings.Join(files[:n], ", ")
	if len(files) > n {
		s += fmt.Sprintf(" (+%d more)", len(files)-n)
	}
	return s
}

// Describe is the description of the entries written for rule r as decided. See
// DescribeTarget.
func Describe(p *edrpolicy.Policy, r *edrpolicy.Rule) string {
	return DescribeTarget(p, Target{Rule: r, Files: r.Files})
}

// DescribeTarget is the description every exported entry carries: the application, what the
// rule allows, the files the entry covers, the reason for the criterion, for a fallback why
// the vendor writes it in another form, and the governance owner and justification when set.
//
// It holds no per-run fact (application version, date, rule position): a rule that did not
// change between two runs gives the same description, so a re-import changes nothing in the
// console. The version is in policy.json and in file headers.
func DescribeTarget(p *edrpolicy.Policy, t Target) string {
	r := t.Rule
	var b strings.Builder
	fmt.Fprintf(&b, "edrpolicy: %s; %s rule (%s)", AppName(p), r.Criterion, r.Role)
	switch {
	case r.FileName != "":
		fmt.Fprintf(&b, " narrowed to %s", r.FileName)
	case r.SigningID != "":
		fmt.Fprintf(&b, " narrowed to signing id %s", r.SigningID)
	}
	fmt.Fprintf(&b, "; files: %s", FileList(t.Files))
	if r.Reason != "" {
		fmt.Fprintf(&b, "; reason: %s", r.Reason)
	}
	if t.Fallback != "" {
		fmt.Fprintf(&b, "; fallback: %s", t.Fallback)
	}
	if r.Owner != "" {
		fmt.Fprintf(&b, "; owner: %s", r.Owner)
	}
	if r.Justification != "" {
		fmt.Fprintf(&b, "; justification: %s", r.Justification)
	}
	if p.Governance.ExpiresSet() && len(r.Expires) >= 10 {
		// The day only: a rule carried from the previous policy keeps its expiry, so the
		// description of an unchanged rule stays the same.
		fmt.Fprintf(&b, "; expires: %s", r.Expires[:10])
	}
	return b.String()
}

// Title is a short label for an entry: the application and the first file's base name (no
// version: see DescribeTarget).
func Title(p *edrpolicy.Policy, t Target) string {
	what := string(t.Rule.Criterion)
	if len(t.Files) > 0 {
		what = BaseName(t.Files[0])
	}
	return fmt.Sprintf("edrpolicy: allow %s: %s", AppName(p), what)
}

// BaseName is the last element of a Windows or POSIX path.
func BaseName(p string) string {
	p = strings.TrimRight(p, `/\`)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return path.Base(p)
}

// HexDigest checks that s is a hex digest of n characters and returns it in lower case.
func HexDigest(s string, n int) (string, error) {
	if len(s) != n {
		return "", fmt.Errorf("%q is %d characters, want %d hex digits", s, len(s), n)
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", fmt.Errorf("%q is not hexadecimal", s)
		}
	}
	return strings.ToLower(s), nil
}

// CSVCell neutralises a cell that a spreadsheet would read as a formula: one that starts
// with = + - @, a tab or a carriage return gets a leading apostrophe (OWASP's advice).
func CSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// CSV renders a header and rows as RFC 4180 CSV (LF line ends), every cell passed through
// CSVCell. The header is written as given.
func CSV(header []string, rows [][]string) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		return nil, err
	}
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = CSVCell(c)
		}
		if err := w.Write(cells); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// psQuotes are the characters PowerShell accepts as a single quote: the ASCII apostrophe
// and the typographic ones (U+2018, U+2019, U+201A, U+201B). Each must be doubled.
const psQuotes = "'\u2018\u2019\u201a\u201b"

// PSQuote returns s as a PowerShell single-quoted string literal: nothing inside is expanded
// ($, backtick, double quotes are literal) and every quote character is doubled.
func PSQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for _, c := range s {
		if strings.ContainsRune(psQuotes, c) {
			b.WriteRune(c)
		}
		b.WriteRune(c)
	}
	b.WriteByte('\'')
	return b.String()
}

// OneLine replaces line breaks and other control characters with a visible escape, so that
// text can go in a line comment (PowerShell #, XML-free) without ending it.
func OneLine(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f || c == 0x85 || c == 0x2028 || c == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// GlobSyntax describes a vendor's path pattern syntax beyond the policy's own wildcard.
//
// In a policy path rule, '*' is the policy's wildcard (one path segment: the user folder in
// C:\Users\*\... and /Users/*/...) and every other character is literal. Meta lists the
// characters the vendor reads as pattern syntax; Escape is the vendor's escape character,
// or 0 when it documents none.
type GlobSyntax struct {
	Vendor string
	Meta   string
	Escape rune
}

// EscapeGlob returns value in the vendor's syntax: literal metacharacters escaped, or an
// error naming the character when the vendor has no escape (the caller refuses the rule).
func EscapeGlob(value string, g GlobSyntax) (string, error) {
	var b strings.Builder
	for _, c := range value {
		if c != '*' && strings.ContainsRune(g.Meta, c) {
			if g.Escape == 0 {
				return "", fmt.Errorf("the name contains %q, which %s reads as a wildcard and has no documented escape for", c, g.Vendor)
			}
			b.WriteRune(g.Escape)
		}
		b.WriteRune(c)
	}
	return b.String(), nil
}

// JSON encodes v with two-space indentation, HTML characters unescaped, and a final newline.
func JSON(v any) ([]byte, error) {
	return jsonout.Indent(v)
}

// Chunk splits xs into consecutive slices of at most n elements.
func Chunk[T any](xs []T, n int) [][]T {
	var out [][]T
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}

// Numbered names part i (0-based) of a split output: base-NNN.ext from 001.
func Numbered(base, ext string, i int) string {
	return fmt.Sprintf("%s-%03d.%s", base, i+1, ext)
}

// IsHex32 reports whether s is 32 hex digits (a Falcon host group ID).
func IsHex32(s string) bool {
	_, err := HexDigest(s, 32)
	return err == nil
}

// IsDigits reports whether s is a non-empty string of ASCII digits (a SentinelOne ID).
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ExtraDigests returns the SHA-1 and MD5 known for hash rule r whose SHA-256 is sum: the
// rule's own (policy.json carries them when the inspection computed them), else those in
// o.Digests (from an `inspect --digests sha1,md5` output).
func ExtraDigests(o *Options, r *edrpolicy.Rule, sum string) hashing.Digests {
	d := o.Digests[sum]
	if r.SHA1 != "" {
		d.SHA1 = r.SHA1
	}
	if r.MD5 != "" {
		d.MD5 = r.MD5
	}
	return d
}

// LiteralProblem says why a policy path value cannot be written into a vendor path entry in
// syntax g so that it names exactly what the policy names, or "" when it can: every
// character the vendor reads as pattern syntax, other than the policy's own '*', must be
// escaped and g has no escape; or the value holds a control character or bytes that are not
// UTF-8, which no vendor file names reliably (a plist holds them as U+FFFD, which matches
// nothing).
func LiteralProblem(value string, g GlobSyntax) string {
	if !utf8.ValidString(value) {
		return "the path is not valid UTF-8, which vendor files cannot hold exactly"
	}
	for _, c := range value {
		switch {
		case unicode.IsControl(c):
			return fmt.Sprintf("the path holds the control character %U, which vendor files cannot name exactly", c)
		case c != '*' && strings.ContainsRune(g.Meta, c) && g.Escape == 0:
			return fmt.Sprintf("the path holds %q, which %s reads as pattern syntax and documents no escape for", c, g.Vendor)
		}
	}
	return ""
}

// Extra returns the SHA-1 and MD5 known for a content: the policy's own (on the hash rule or
// in file_digests), else those in o.Digests (from an `inspect --digests sha1,md5` output).
func Extra(o *Options, d edrpolicy.FileDigest) hashing.Digests {
	got := o.Digests[strings.ToLower(d.SHA256)]
	if d.SHA1 != "" {
		got.SHA1 = d.SHA1
	}
	if d.MD5 != "" {
		got.MD5 = d.MD5
	}
	return got
}

// PlatformName is the vendor's name (from names, the vendor's table) for the platform of t's
// rule, or an error naming the rule when the platform is not one the vendor knows.
func PlatformName(t Target, names map[profile.OS]string) (string, error) {
	if n, ok := names[t.Rule.Platform]; ok {
		return n, nil
	}
	return "", fmt.Errorf("%s: platform %q: want windows, mac or linux", RuleRef(t.Index, t.Rule), t.Rule.Platform)
}
