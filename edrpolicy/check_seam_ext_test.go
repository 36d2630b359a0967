package edrpolicy_test

import (
	"context"
	"encoding/json"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/check"
)

// init fills in the seam of check_seam_test.go: package edrpolicy's tests run check through it.
func init() {
	edrpolicy.CheckJSON = func(ctx context.Context, p *edrpolicy.Policy, a edrpolicy.CheckArgs) ([]byte, bool, error) {
		rep, err := check.Run(ctx, p, check.Options{Roots: a.Roots, InstallPaths: a.InstallPaths, Inspect: a.Inspect, Now: a.Now})
		if err != nil {
			return nil, false, err
		}
		data, err := json.Marshal(rep)
		return data, rep.Failed(), err
	}
	edrpolicy.CheckSignerRuleAllows = check.SignerRuleAllows
	edrpolicy.CheckFindingLevels = func() map[string]string {
		out := map[string]string{}
		for _, r := range check.FindingRules() {
			out[r.ID] = string(r.Severity)
		}
		return out
	}
}
