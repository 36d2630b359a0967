package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// notBuilt lists the contract's commands whose implementation has not landed yet, with the
// issue that builds each. Each says so and exits 2, so scripts fail loudly rather than
// silently doing nothing. Remove a command from here when its file lands.
var notBuilt = []struct{ use, short, issue string }{}

func notBuiltCommands(a *app) []*cobra.Command {
	var cmds []*cobra.Command
	for _, nb := range notBuilt {
		nb := nb
		cmds = append(cmds, &cobra.Command{
			Use:                nb.use,
			Short:              nb.short + " (not built yet)",
			DisableFlagParsing: true,
			RunE: func(c *cobra.Command, _ []string) error {
				return &exitErr{code: exitError, err: fmt.Errorf("%s: not built yet (%s); no files were written", c.Name(), nb.issue)}
			},
		})
	}
	return cmds
}
