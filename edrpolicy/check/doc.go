// Package check lints an edrpolicy policy and simulates it against an install: the library
// behind `edrpolicy check`.
//
// Run looks at a *edrpolicy.Policy (read with edrpolicy.ReadPolicy or made by Decide) and
// returns a Report of Findings, each with a stable id (EDR001 ...; see FindingRules) and a
// level (SeverityError fails the check: Report.Failed). With Options.Roots it also inspects the
// install and says, for every executable, which rule would allow it (Report.Simulation):
//
//	pol, err := edrpolicy.ReadPolicy("out/policy.json")
//	...
//	rep, err := check.Run(ctx, pol, check.Options{Roots: []string{`C:\Program Files\App`}})
//	...
//	if rep.Failed() {
//		for _, f := range rep.Findings {
//			fmt.Println(f.ID, f.Severity, f.RuleRef(), f.Message)
//		}
//	}
//
// The lint judges rules exactly as Decide and the exporters do (edrpolicy.RuleRefusals), and
// the simulation judges signatures as Decide does (edrpolicy.Install), so a policy that
// generate writes checks clean against the install it came from. The output-set ids (EDR2xx)
// are reported by exporters/verify, which checks a folder of vendor files and adds its
// findings to a Report (Report.Summarize).
//
// check imports edrpolicy, never the reverse. The ids of findings that are also refusals
// (FindingGuardrail, FindingExecutableFolder, FindingInterpreter, FindingRiskySigner) are
// defined in edrpolicy, whose Refusal carries them; check repeats them so that its catalogue
// is complete.
package check
