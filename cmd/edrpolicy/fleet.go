package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/fleet"
)

// fleetFlags are generate's flags for evidence of many hosts (issue 16).
type fleetFlags struct {
	evidence []string
	minHosts int
	minShare string
}

func (f *fleetFlags) bind(c *cobra.Command) {
	fl := c.Flags()
	fl.StringArrayVar(&f.evidence, "evidence", nil, "evidence of many hosts (repeatable; - for stdin; .gz accepted): inspect --format json output, osqueryd result logs, osqueryi --json arrays, Fleet query reports")
	fl.IntVar(&f.minHosts, "min-hosts", fleet.DefaultMinHosts, "with --evidence: a digest or version on fewer hosts is an outlier (no rule, a fleet-outlier warning)")
	fl.StringVar(&f.minShare, "min-share", "1%", "with --evidence: a digest on a smaller share of the hosts reporting its path, or a version on a smaller share of the hosts, is an outlier (0.01 or 1%)")
}

// generate runs edrpolicy.Generate, or fleet.Generate when evidence is given.
func (o *generateOptions) generate(ctx context.Context, a *app, g edrpolicy.GenerateOptions) (*edrpolicy.Policy, error) {
	f := o.fleet
	if len(f.evidence) == 0 {
		return edrpolicy.Generate(ctx, g)
	}
	share, err := parseShare(f.minShare)
	if err != nil {
		return nil, usageErr("--min-share: %w", err)
	}
	if f.minHosts < 1 {
		return nil, usageErr("--min-hosts %d: want 1 or more", f.minHosts)
	}
	opts := fleet.Options{Generate: g, MinHosts: f.minHosts, MinShare: share}
	stdin := false
	for _, e := range f.evidence {
		if e != "-" {
			opts.Evidence = append(opts.Evidence, fleet.Source{Name: e})
			continue
		}
		if stdin {
			return nil, usageErr("--evidence -: standard input can be given once")
		}
		stdin = true
		if fd, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(fd.Fd())) {
			return nil, usageErr("--evidence -: standard input is a terminal; pipe the evidence in")
		}
		opts.Evidence = append(opts.Evidence, fleet.Source{Name: "-", Reader: a.stdin})
	}
	return fleet.Generate(ctx, opts)
}

// parseShare reads 0.01 or 1%.
func parseShare(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q: want a fraction (0.01) or a percentage (1%%)", s)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("%q: want 0 to 1 (0%% to 100%%)", s)
	}
	return v, nil
}

// fleetExit is the end of a generate run over fleet evidence: exit 1 when the evidence holds
// findings (outliers, unreadable evidence, hosts of unknown version) or a local file could
// not be read.
func fleetExit(a *app, pol *edrpolicy.Policy) error {
	f := pol.Fleet
	if f.Findings == 0 && !pol.Partial {
		return nil
	}
	var parts []string
	if f.Findings > 0 {
		parts = append(parts, fmt.Sprintf("%d fleet finding(s): see the %s, %s, %s and %s warnings", f.Findings, fleet.WarnOutlier, fleet.WarnVersionUnknown, fleet.WarnNoDigest, fleet.WarnEvidence))
	}
	if pol.Partial {
		parts = append(parts, "the policy was built from a partial read (the evidence-error and unreadable warnings say what)")
	}
	fmt.Fprintf(a.stderr, "edrpolicy: %s\n", strings.Join(parts, "; "))
	return attention()
}
