package defender

import (
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
)

// psQuoteChars are the characters PowerShell reads as a single quote (core.PSQuote doubles
// each of them).
const psQuoteChars = "'\u2018\u2019\u201a\u201b"

// psToken is one token of a PowerShell script as far as reading exclusions needs: a bare
// word, a single-quoted literal (text holds its value, line breaks included), an opaque
// double-quoted string, or one of the separators ; | { } ( ) , and line break.
type psToken struct {
	kind byte // 'w' word, 'l' literal, 's' double-quoted string, or the separator itself
	text string
	line int
}

// ParseScript reads the exclusions a Defender PowerShell script adds: every -ExclusionPath,
// -ExclusionProcess and -ExclusionExtension argument of an Add-MpPreference or
// Set-MpPreference command, which must be single-quoted literals (as core.PSQuote writes
// them; a value PowerShell would expand is refused). The script may start with a UTF-8 BOM.
// Comments (# and <# #>) and double-quoted strings are skipped, so a command printed for a
// dry run is not read as one. An exclusion parameter on any other command, except
// Remove-MpPreference and Get-MpPreference, is an error: the parser cannot tell what it adds.
func ParseScript(name string, data []byte) ([]core.Entry, error) {
	data = core.StripBOM(data)
	if err := core.CheckText(data); err != nil {
		return nil, err
	}
	toks, err := tokenizePS([]rune(strings.ReplaceAll(string(data), "\r\n", "\n")))
	if err != nil {
		return nil, err
	}
	return scriptEntries(name, toks)
}

// tokenizePS splits a script into tokens; a line break outside a string is a separator
// token ('\n'). Each token records the line it starts on.
func tokenizePS(rs []rune) ([]psToken, error) {
	var toks []psToken
	line := 1
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case c == '<' && i+1 < len(rs) && rs[i+1] == '#':
			end := indexPair(rs, i+2, '#', '>')
			if end < 0 {
				return nil, fmt.Errorf("line %d: a <# block comment is never closed", line)
			}
			line += countNL(rs[i:end])
			i = end + 2
		case c == '#':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
		case c == '\n':
			toks = append(toks, psToken{kind: '\n', line: line})
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case strings.ContainsRune(psQuoteChars, c):
			lit, next, err := psLiteral(rs, i)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			toks = append(toks, psToken{kind: 'l', text: lit, line: line})
			line += countNL(rs[i:next])
			i = next
		case isDoubleQuote(c):
			next, err := psSkipDouble(rs, i)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			toks = append(toks, psToken{kind: 's', line: line})
			line += countNL(rs[i:next])
			i = next
		case strings.ContainsRune(";|{}(),", c):
			toks = append(toks, psToken{kind: byte(c), text: string(c), line: line})
			i++
		default:
			j := i
			for j < len(rs) && !strings.ContainsRune(" \t\r\n;|{}(),#"+psQuoteChars, rs[j]) && !isDoubleQuote(rs[j]) {
				j++
			}
			toks = append(toks, psToken{kind: 'w', text: string(rs[i:j]), line: line})
			i = j
		}
	}
	return toks, nil
}

// indexPair returns the index of the first a immediately followed by b at or after i, or -1.
func indexPair(rs []rune, i int, a, b rune) int {
	for ; i+1 < len(rs); i++ {
		if rs[i] == a && rs[i+1] == b {
			return i
		}
	}
	return -1
}

func countNL(rs []rune) int {
	n := 0
	for _, c := range rs {
		if c == '\n' {
			n++
		}
	}
	return n
}

func isDoubleQuote(c rune) bool { return c == '"' || c == '\u201c' || c == '\u201d' || c == '\u201e' }

// psLiteral reads the single-quoted string starting at rs[i]: a quote character followed by
// another stands for the second one (PowerShell's rule), any other quote character ends it.
func psLiteral(rs []rune, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(rs); j++ {
		if strings.ContainsRune(psQuoteChars, rs[j]) {
			if j+1 < len(rs) && strings.ContainsRune(psQuoteChars, rs[j+1]) {
				b.WriteRune(rs[j+1])
				j++
				continue
			}
			return b.String(), j + 1, nil
		}
		b.WriteRune(rs[j])
	}
	return "", 0, fmt.Errorf("a single-quoted string is never closed")
}

// psSkipDouble skips the double-quoted string starting at rs[i] (backtick escapes and doubled
// quotes inside).
func psSkipDouble(rs []rune, i int) (int, error) {
	for j := i + 1; j < len(rs); j++ {
		switch {
		case rs[j] == '`':
			j++
		case isDoubleQuote(rs[j]):
			if j+1 < len(rs) && isDoubleQuote(rs[j+1]) {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("a double-quoted string is never closed")
}

// exclusionTypes maps the exclusion parameters (lower case) to entry types.
var exclusionTypes = map[string]string{
	"-exclusionpath": TypeExclusionPath, "-exclusionprocess": TypeExclusionProcess, "-exclusionextension": TypeExclusionExtension,
}

// scriptEntries returns the exclusions of one tokenized line, command by command.
func scriptEntries(file string, toks []psToken) ([]core.Entry, error) {
	var out []core.Entry
	cmd := ""
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != 'w' {
			if strings.ContainsRune(";|{}(\n", rune(t.kind)) {
				cmd = ""
			}
			continue
		}
		word := strings.ToLower(t.text)
		if cmd == "" || cmd == "&" || cmd == "." {
			cmd = word // "& cmd" and ". cmd" run cmd
			continue
		}
		param, attached := word, ""
		if k := strings.IndexByte(word, ':'); k > 0 {
			param, attached = word[:k], word[k+1:]
		}
		typ, ok := exclusionTypes[param]
		if !ok {
			continue
		}
		switch cmd {
		case "add-mppreference", "set-mppreference":
		case "remove-mppreference", "get-mppreference":
			continue
		default:
			return nil, fmt.Errorf("line %d: %s on the command %s: cannot tell what it adds", t.line, t.text, core.Quote(cmd))
		}
		if attached != "" {
			return nil, fmt.Errorf("line %d: %s takes %s, not a single-quoted literal", t.line, param, core.Quote(attached))
		}
		vals, next, err := psValues(toks, i+1)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", t.line, t.text, err)
		}
		for _, v := range vals {
			if err := core.PlainEntryValue(v); err != nil {
				return nil, fmt.Errorf("line %d: %s: %w", t.line, t.text, err)
			}
			out = append(out, core.Entry{Vendor: Name, Kind: core.EntryPath, Type: typ, Value: v, Platform: "windows", File: file})
		}
		i = next - 1
	}
	return out, nil
}

// psValues reads literal (, literal)* starting at toks[i] and returns the values and the
// index after them.
func psValues(toks []psToken, i int) ([]string, int, error) {
	var vals []string
	for {
		if i >= len(toks) || toks[i].kind != 'l' {
			return nil, 0, fmt.Errorf("the value is not a single-quoted literal")
		}
		vals = append(vals, toks[i].text)
		i++
		if i < len(toks) && toks[i].kind == ',' {
			i++
			continue
		}
		return vals, i, nil
	}
}
