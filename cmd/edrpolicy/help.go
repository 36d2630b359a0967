package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// commandHelp is what every command's help shows besides its description: an example, and
// the exit codes the command really uses (for commands whose description does not already
// list them).
var commandHelp = map[string]struct{ example, exit string }{
	"edrpolicy inspect": {example: `  edrpolicy inspect 'C:\Program Files\CrashPlan'
  edrpolicy inspect --format json --digests sha1,md5 --roots ca.pem /Applications/CrashPlan.app`},
	"edrpolicy generate": {example: `  edrpolicy generate --profile code42 --os windows --root 'C:\Program Files\CrashPlan' \
    --level signer --pin-signer THUMBPRINT --vendor defender,crowdstrike --out out/ --report out-review.html
  edrpolicy generate --profile code42 --os windows --root new/ --previous deployed/policy.json \
    --owner secops@example.com --justification CHG-1234 --max-age 1y --out next/`},
	"edrpolicy export": {example: `  edrpolicy export --vendor sentinelone --s1-tenant --out s1/ out/policy.json`},
	"edrpolicy check": {example: `  edrpolicy check out/policy.json
  edrpolicy check out/policy.json --root 'C:\Program Files\CrashPlan' --format sarif > check.sarif`},
	"edrpolicy diff":         {example: `  edrpolicy diff deployed/policy.json next/policy.json`},
	"edrpolicy report":       {example: `  edrpolicy report out/ --out out-review.html --previous deployed/`},
	"edrpolicy osquery-pack": {example: `  edrpolicy osquery-pack --profile code42 --os windows --app-version 11.1 --app-version 11.2 > code42.conf`},
	"edrpolicy paths": {example: `  edrpolicy paths --profile code42 --os mac --app-version 11.1`,
		exit: "0 table printed; 2 usage error, a version no source covers or a product whose tables no source gives (the message names the flag that supplies it)."},
	"edrpolicy ports": {example: `  edrpolicy ports --profile code42 --app-version 11.1 --server-version 11.1`,
		exit: "0 table printed; 2 usage error or an unreadable profile."},
	"edrpolicy profiles": {example: `  edrpolicy profiles
  edrpolicy profiles --format json`,
		exit: "0 listed; 2 usage error."},
	"edrpolicy profiles schema": {example: `  edrpolicy profiles schema > edrpolicy-profile.schema.json`,
		exit: "0 printed; 2 usage error."},
	"edrpolicy profiles init": {example: `  edrpolicy profiles init --root /opt/myapp --os linux --name myapp --install-path /opt/myapp > myapp.json`,
		exit: "0 profile printed; 2 usage error or an install that cannot be inspected."},
}

// documentCommands adds each command's example and, where its description has none, its exit
// codes (the contract's 0, 1 and 2, narrowed to what the command does).
func documentCommands(root *cobra.Command) {
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if h, ok := commandHelp[c.CommandPath()]; ok {
			c.Example = h.example
			if h.exit != "" && !strings.Contains(c.Long, "Exit codes:") {
				c.Long = strings.TrimRight(c.Long, "\n") + "\n\nExit codes: " + h.exit
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
