// Command edrpolicy writes the smallest safe set of EDR exceptions for an installed
// application: it inspects the files (digests, Authenticode and Apple code signatures),
// decides per file the strongest criterion allowed (hash, signer, path) and exports vendor
// files for CrowdStrike Falcon, SentinelOne and Microsoft Defender.
//
// Exit codes (all commands): 0 success; 1 finished but something needs attention (inspect:
// some files could not be read or parsed; diff: the policies differ; check: findings);
// 2 usage error or fatal error.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
