package profile

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The error lists one candidate row per line; what a profile file supplies is escaped, so a
// crafted path neither adds lines nor reaches the terminal as control sequences.
func TestUnknownErrorEscapes(t *testing.T) {
	e := &UnknownError{Profile: "p\x1b[2J", OS: "linux",
		Gap:        Unknown{Message: "gap\u202e", Candidates: []string{"8.0", "8.2\n"}, Flag: "--assume-paths"},
		Candidates: map[string][]PathRow{"8.0": {{Use: "app\r", Path: "/opt/a\nfake line"}}, "8.2\n": {{Use: "app", Path: "/opt/b"}}}}
	msg := e.Error()
	assert.Equal(t, 6, strings.Count(msg, "\n")+1, msg)
	assert.Contains(t, msg, `profile p\x1b[2J, linux: unknown: gap\u202e`)
	assert.Contains(t, msg, `app\r`)
	assert.Contains(t, msg, `/opt/a\nfake line`)
	assert.Contains(t, msg, "candidate table 8.2\\n:\n    app")
	assert.Contains(t, msg, `--assume-paths 8.0|8.2\n,`)
	assert.Equal(t, "/opt/a\nfake line", e.Candidates["8.0"][0].Path, "the error's own fields are not changed")
}
