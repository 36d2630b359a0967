package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// Exit codes, as documented in the contract.
const (
	exitOK        = 0
	exitAttention = 1
	exitError     = 2
)

// exitErr carries an exit code through cobra. A nil err with code 1 means "finished, but
// look at the output"; the message, if any, has already been printed.
type exitErr struct {
	code int
	err  error
	// note is a line printed after the error (what the failure means for the output).
	note string
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitErr) Unwrap() error { return e.err }

// attention returns the error that makes a command exit 1 without printing anything more.
func attention() error { return &exitErr{code: exitAttention} }

// app is the state a command may use: its streams and whether stderr is a terminal. There is
// no package-level state, so tests run commands in parallel.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stderrIsTTY    bool
}

// version is set with -ldflags "-X main.version=v1.2.3"; otherwise the module version from the
// build info is used.
var version = ""

func moduleVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += "+dirty"
		}
	}
	return v
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "edrpolicy",
		Short: "Write the smallest safe set of EDR exceptions for an installed application",
		Long: `edrpolicy inspects an installed application (file digests, Authenticode and Apple code
signatures), decides per file the strongest exception criterion you accept (hash > signer >
path) using version-aware path tables, and exports vendor files for CrowdStrike Falcon,
SentinelOne and Microsoft Defender.

Exit codes: 0 success; 1 finished but something needs attention (inspect: some files could
not be read or parsed; diff: the policies differ; check: findings); 2 usage or fatal error.`,
		Version:       moduleVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("edrpolicy {{.Version}}\n")
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error { return refuseEmpty(c, args) }
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitErr{code: exitError, err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(newInspectCmd(a))
	root.AddCommand(newExportCmd(a), newDiffCmd(a), newCheckCmd(a), newReportCmd(a))
	root.AddCommand(newGenerateCmd(a), newPathsCmd(a), newPortsCmd(a), newProfilesCmd(a))
	root.AddCommand(newOsqueryPackCmd(a))
	documentCommands(root)
	return root
}

// refuseEmpty refuses an empty (or blank) value for any flag given and any argument: an empty
// --root used to be read as the current folder, an empty --previous or --out as no value at
// all. Every command runs it before anything else (a usage error, exit 2).
func refuseEmpty(c *cobra.Command, args []string) error {
	for i, a := range args {
		if strings.TrimSpace(a) == "" {
			return usageErr("argument %d is empty: give a path (see '%s --help')", i+1, c.CommandPath())
		}
	}
	var bad string
	c.Flags().Visit(func(f *pflag.Flag) {
		if bad != "" {
			return
		}
		switch v := f.Value.(type) {
		case pflag.SliceValue:
			vals := v.GetSlice()
			if len(vals) == 0 {
				bad = f.Name
			}
			for _, s := range vals {
				if strings.TrimSpace(s) == "" {
					bad = f.Name
				}
			}
		default:
			if f.Value.Type() == "string" && strings.TrimSpace(f.Value.String()) == "" {
				bad = f.Name
			}
		}
	})
	if bad != "" {
		return usageErr("--%s: an empty value: give one, or leave the flag out (an empty --root used to mean the current folder)", bad)
	}
	return nil
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	if f, ok := stderr.(*os.File); ok {
		a.stderrIsTTY = term.IsTerminal(int(f.Fd()))
	}
	root := newRootCmd(a)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitErr
	if errors.As(err, &ee) {
		if ee.err != nil {
			printError(stderr, ee.err)
		}
		if ee.note != "" {
			fmt.Fprintln(stderr, esc(ee.note))
		}
		return ee.code
	}
	// cobra's own errors (unknown command, bad args) and command errors are usage/fatal.
	printError(stderr, err)
	return exitError
}
