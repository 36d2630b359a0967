package check

import (
	"fmt"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
)

// Finding ids of the risk checks. FindingInterpreter and FindingRiskySigner are also the ids
// of edrpolicy's refusals (edrpolicy.Refusal.ID), which is where they are defined: Decide and
// the exporters refuse the same rules that check reports.
const (
	// FindingInterpreter: a rule allows an interpreter or LOLBin (error; warning when the
	// policy records it as allowed by a forced decision).
	FindingInterpreter = edrpolicy.FindingInterpreter
	// FindingRiskySigner: a signer rule (not narrowed) names a signer that also signs much of
	// an operating system or of other vendors' software (error; warning when forced).
	FindingRiskySigner = edrpolicy.FindingRiskySigner
	// FindingUnsealedBundle: an executable of an app bundle whose resources are not sealed
	// (no _CodeSignature): its rule trusts the executable only.
	FindingUnsealedBundle = "EDR019"
)

// riskFindingRules are the catalogue entries of the risk findings (FindingRules).
func riskFindingRules() []FindingRule {
	return []FindingRule{
		{FindingInterpreter, SeverityError, "rule allows an interpreter or living-off-the-land binary: every script it runs is allowed"},
		{FindingRiskySigner, SeverityError, "signer rule names a signer that also signs much of an operating system or other vendors' software"},
		{FindingUnsealedBundle, SeverityWarning, "executable of an app bundle whose resources are not sealed"},
	}
}

// lintRisk reports, from rule i's refusals (edrpolicy.RuleRefusals, the exporters' judgement),
// a rule that allows an interpreter or LOLBin, recognised by the names the policy holds (each
// file's name, a signer rule's file_name or signing_id; the simulation also recognises
// renamed copies by their evidence), and a signer rule that names a risky signer.
func (c *checker) lintRisk(i int, refusals []edrpolicy.Refusal) {
	r := &c.pol.Rules[i]
	for _, ref := range refusals {
		switch ref.ID {
		case FindingInterpreter:
			c.interpreterFinding(i, ref.Path, ref.Reason, anyForced(c.pol.ForcedFiles(edrpolicy.WarnInterpreterForced), r.Files))
		case FindingRiskySigner:
			sev, note := SeverityError, ": remove the pin and regenerate (its files then get rules narrowed to them)"
			if anyForced(c.pol.ForcedFiles(edrpolicy.WarnRiskySignerForced), r.Files) {
				sev, note = SeverityWarning, " (pinned by an explicit override: forced)"
			}
			c.add(FindingRiskySigner, sev, i, ref.Path, "%s%s", ref.Reason, note)
		}
	}
}

func anyForced(forced map[string]bool, files []string) bool {
	for _, f := range files {
		if forced[f] {
			return true
		}
	}
	return false
}

// interpreterFinding reports rule i over the interpreter file; text says what it allows.
func (c *checker) interpreterFinding(i int, file, text string, forced bool) {
	sev, note := SeverityError, ": remove the rule, or keep it knowing what it allows (a forced decision records it)"
	if forced {
		sev, note = SeverityWarning, " (allowed by an explicit override: forced)"
	}
	c.add(FindingInterpreter, sev, i, file, "%s%s", text, note)
}

// simRisk reports, for an executable the simulation found covered by rule (index), that it is
// an interpreter or LOLBin recognised by its evidence (a renamed copy: OriginalFilename,
// signing identifier), unless the lint already named it.
func (c *checker) simRisk(e *simExec, rule int) {
	m := c.interp.Match(e.file)
	if m == nil || rule < 0 {
		return
	}
	for _, f := range c.findings {
		if f.ID == FindingInterpreter && f.Rule != nil && *f.Rule == rule {
			return
		}
	}
	forced := anyForced(c.pol.ForcedFiles(edrpolicy.WarnInterpreterForced), e.endpoints)
	file := firstFile(e.endpoints)
	c.interpreterFinding(rule, file, m.RuleText(file), forced)
}

// interpreterNote is added to the not-covered message of an interpreter: generate leaves it
// without a rule on purpose.
func (c *checker) interpreterNote(f *edrpolicy.FileEvidence) string {
	if m := c.interp.Match(f); m != nil {
		return fmt.Sprintf(" (%s: generate writes no rule for it unless forced)", m.Text())
	}
	return ""
}

// simUnsealed reports an executable of an app bundle whose resources are not sealed.
func (c *checker) simUnsealed(e *simExec) {
	if note := c.install.UnsealedNote(e.file); note != "" {
		c.add(FindingUnsealedBundle, SeverityWarning, -1, firstFile(e.endpoints), "%s", note)
	}
}
