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

// scriptReader walks a tokenized script command by command. It knows the functions the
// script defines whose body passes a parameter to an exclusion parameter (adders: generated
// scripts call such a helper as NAME 'ExclusionPath' 'value' to print, add and verify).
type scriptReader struct {
	file    string
	toks    []psToken
	out     []core.Entry
	adders  map[string]bool
	depth   int    // brace depth
	fnName  string // the function whose body is being read, or ""
	fnDepth int    // the brace depth its body started at
}

// scriptEntries returns the exclusions of a tokenized script.
func scriptEntries(file string, toks []psToken) ([]core.Entry, error) {
	r := &scriptReader{file: file, toks: toks, adders: map[string]bool{}}
	cmd, pendingFn := "", ""
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != 'w' {
			r.brace(t.kind, &pendingFn)
			if strings.ContainsRune(";|{}(\n", rune(t.kind)) {
				cmd = ""
			}
			continue
		}
		word := strings.ToLower(t.text)
		switch {
		case cmd == "function":
			pendingFn, cmd = word, "-"
			continue
		case cmd == "" || cmd == "&" || cmd == ".":
			cmd = word // "& cmd" and ". cmd" run cmd
			if r.adders[cmd] {
				next, err := r.adderCall(i + 1)
				if err != nil {
					return nil, fmt.Errorf("line %d: %s: %w", t.line, t.text, err)
				}
				i, cmd = next-1, "-"
			}
			continue
		}
		next, err := r.parameter(cmd, word, i)
		if err != nil {
			return nil, err
		}
		i = next - 1
	}
	return r.out, nil
}

// brace tracks function bodies: the '{' after "function NAME" opens one, its '}' closes it.
func (r *scriptReader) brace(kind byte, pendingFn *string) {
	switch kind {
	case '{':
		r.depth++
		if *pendingFn != "" && r.fnName == "" {
			r.fnName, r.fnDepth, *pendingFn = *pendingFn, r.depth, ""
		}
	case '}':
		if r.fnName != "" && r.depth == r.fnDepth {
			r.fnName = ""
		}
		if r.depth > 0 {
			r.depth--
		}
	}
}

// parameter reads the word at toks[i] of command cmd and returns the index after what it
// consumed: an exclusion parameter of Add-MpPreference or Set-MpPreference gives entries.
func (r *scriptReader) parameter(cmd, word string, i int) (int, error) {
	t := r.toks[i]
	param, attached := word, ""
	if k := strings.IndexByte(word, ':'); k > 0 {
		param, attached = word[:k], word[k+1:]
	}
	typ, ok := exclusionTypes[param]
	if !ok {
		return i + 1, nil
	}
	switch cmd {
	case "add-mppreference", "set-mppreference":
	case "remove-mppreference", "get-mppreference":
		return i + 1, nil
	default:
		return 0, fmt.Errorf("line %d: %s on the command %s: cannot tell what it adds", t.line, t.text, core.Quote(cmd))
	}
	if attached != "" {
		return 0, fmt.Errorf("line %d: %s takes %s, not a single-quoted literal", t.line, param, core.Quote(attached))
	}
	if r.fnName != "" && i+1 < len(r.toks) && r.toks[i+1].kind == 'w' && strings.HasPrefix(r.toks[i+1].text, "$") {
		// A function passing its parameter on: its calls say what it adds.
		r.adders[r.fnName] = true
		return i + 2, nil
	}
	vals, next, err := psValues(r.toks, i+1)
	if err != nil {
		return 0, fmt.Errorf("line %d: %s: %w", t.line, t.text, err)
	}
	for _, v := range vals {
		if err := r.add(typ, v); err != nil {
			return 0, fmt.Errorf("line %d: %s: %w", t.line, t.text, err)
		}
	}
	return next, nil
}

// adderCall reads NAME 'Kind' 'value' (the call of an adder function) from toks[i].
func (r *scriptReader) adderCall(i int) (int, error) {
	if i+1 >= len(r.toks) || r.toks[i].kind != 'l' || r.toks[i+1].kind != 'l' {
		return 0, fmt.Errorf("the call does not pass two single-quoted literals (the exclusion parameter and the value)")
	}
	typ, ok := exclusionTypes["-"+strings.ToLower(r.toks[i].text)]
	if !ok {
		return 0, fmt.Errorf("%s is not an exclusion parameter", core.Quote(r.toks[i].text))
	}
	return i + 2, r.add(typ, r.toks[i+1].text)
}

func (r *scriptReader) add(typ, v string) error {
	if err := core.PlainEntryValue(v); err != nil {
		return err
	}
	r.out = append(r.out, core.Entry{Vendor: Name, Kind: core.EntryPath, Type: typ, Value: v, Platform: "windows", File: r.file})
	return nil
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
