package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHelpExitCodesAndExamples: every command's help says its exit codes and shows an
// example that names the command itself.
func TestHelpExitCodesAndExamples(t *testing.T) {
	root := newRootCmd(&app{})
	n := 0
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			n++
			code, out, errOut := runCLI(append(strings.Fields(strings.TrimPrefix(sub.CommandPath(), "edrpolicy ")), "--help")...)
			require.Equal(t, 0, code, "%s: %s", sub.CommandPath(), errOut)
			assert.Contains(t, out, "Exit codes: 0 ", sub.CommandPath())
			assert.Regexp(t, `\nExamples:\n  `+sub.CommandPath()+`[ \n]`, out, sub.CommandPath())
			walk(sub)
		}
	}
	walk(root)
	assert.GreaterOrEqual(t, n, 11)
}
