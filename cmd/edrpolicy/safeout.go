package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/internal/safetext"
)

// Human output escapes what it did not write itself: file names, paths, signer names, profile
// and policy text. esc is the one escaping used by every table, summary, warning and error
// line of the CLI (JSON output keeps the exact values).
func esc(s string) string { return safetext.Escape(s) }

// row writes one tab-separated table row, each cell escaped (so no cell holds a tab or a line
// break of its own).
func row(w io.Writer, cells ...string) {
	for i, c := range cells {
		if i > 0 {
			io.WriteString(w, "\t")
		}
		io.WriteString(w, esc(c))
	}
	io.WriteString(w, "\n")
}

// warnLine writes a warning to stderr, escaped.
func warnLine(a *app, code edrpolicy.WarningCode, message string) {
	fmt.Fprintf(a.stderr, "edrpolicy: warning: %s: %s\n", esc(string(code)), esc(message))
}

// printError writes err to w as "edrpolicy: " and its lines. The only line breaks kept are
// those of the errors that list several items one per line (guardrail refusals, profile
// unknowns, joined errors such as a profile's validation errors); every other character a
// terminal would interpret, a line break inside a file name included, is escaped.
func printError(w io.Writer, err error) {
	for i, l := range errorLines(err, err) {
		if i == 0 {
			l = "edrpolicy: " + l
		}
		fmt.Fprintln(w, l)
	}
	var ge *edrpolicy.GuardrailError
	if errors.As(err, &ge) && ge.Forcible() {
		// The library says what forcing does; the CLI names the flag that does it.
		fmt.Fprintln(w, "edrpolicy: --force keeps the refused rules, each with a warning")
	}
}

// errorLines splits err into lines; top is the error printed, whose option errors are named
// by their flags (flagged) in every line.
func errorLines(top, err error) []string {
	msg := flagged(top, err.Error())
	inner := multiLine(err)
	if inner == nil {
		return []string{esc(msg)}
	}
	im := flagged(top, inner.Error())
	at := strings.Index(msg, im)
	if at < 0 {
		return []string{esc(msg)}
	}
	var lines []string
	if j, ok := inner.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			lines = append(lines, errorLines(top, e)...)
		}
	} else {
		// GuardrailError and UnknownError escape what they quote themselves.
		for _, l := range strings.Split(im, "\n") {
			lines = append(lines, esc(l))
		}
	}
	if len(lines) == 0 {
		return []string{esc(msg)}
	}
	lines[0] = esc(msg[:at]) + lines[0]
	lines[len(lines)-1] += esc(msg[at+len(im):])
	return lines
}

// multiLine finds, along err's chain, the first error whose message is several lines by
// design: a *GuardrailError, a *profile.UnknownError, or a join (errors.Join) of errors.
func multiLine(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch e.(type) {
		case *edrpolicy.GuardrailError, *profile.UnknownError:
			return e
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			var parts []string
			for _, c := range j.Unwrap() {
				if c != nil {
					parts = append(parts, c.Error())
				}
			}
			if len(parts) > 1 && e.Error() == strings.Join(parts, "\n") {
				return e
			}
			return nil
		}
	}
	return nil
}
