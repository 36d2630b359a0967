package edrpolicy

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edrpolicy/edrpolicy/hashing"
)

// Unread is a file or folder an inspection could not read.
type Unread struct {
	// Name is the file as displayed (root/path), rendered with QuotePath.
	Name string
	// Reason says why it was not read.
	Reason string
}

// UnreadFiles returns what the inventory holds but could not read, in inventory order: files
// that could not be opened or read (no permission, a FIFO, socket or device, a name that is not
// valid UTF-8, a path too long for the OS), and folders that could not be listed (what they
// hold is unknown). Symbolic links that were reported rather than followed, and bundles (whose
// failures are broken seals, reported as tampered), are not counted. Generate records each one
// as an "unreadable" warning and Check reports the same list, named the same way.
func UnreadFiles(inv *Inventory) []Unread {
	var out []Unread
	for i := range inv.Files {
		f := &inv.Files[i]
		if f.SHA256 != "" || f.Format == hashing.FormatAppBundle {
			continue
		}
		if f.Error == "" && (f.Symlink != "" || !f.IsExecutable()) {
			continue
		}
		out = append(out, Unread{Name: QuotePath(displayName(*f)), Reason: unreadReason(f)})
	}
	return out
}

func unreadReason(f *FileEvidence) string {
	switch {
	case !utf8.ValidString(f.Root + f.Path):
		return "its name is not valid UTF-8, shown Go-quoted with the invalid bytes as \\xNN; it cannot be opened by name nor named in a vendor file"
	case f.Error == "":
		return "no digest"
	}
	return f.Error
}

// QuotePath renders a file name reversibly for JSON and terminals. A name that is valid UTF-8
// is returned unchanged; a name with bytes that are not UTF-8 (Linux allows any byte but '/'
// and NUL in a name) is Go-quoted with strconv.Quote: the invalid bytes become \xNN escapes and
// strconv.Unquote gives the exact bytes back. A valid name that itself starts with a double
// quote is quoted too, so the two forms cannot be confused. JSON encoding would otherwise turn
// each invalid byte into U+FFFD, losing the name.
func QuotePath(name string) string {
	if utf8.ValidString(name) && !strings.HasPrefix(name, `"`) {
		return name
	}
	return strconv.Quote(name)
}

// unreadableWarnings turns the unread files into warnings, one per file so that each names its
// reason, and marks the policy partial.
func (d *decider) unreadableWarnings(inv *Inventory) {
	unread := UnreadFiles(inv)
	if len(unread) == 0 {
		return
	}
	d.pol.Partial = true
	for _, u := range unread {
		d.warn = append(d.warn, Warning{
			Code:    WarnUnreadable,
			Message: fmt.Sprintf("%s could not be read (%s): no rule covers it or what it holds; this policy was built from a partial read", u.Name, u.Reason),
			Files:   []string{u.Name},
		})
	}
}
