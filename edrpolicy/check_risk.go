package edrpolicy

import (
	"fmt"
	"path"
	"strings"
)

// Finding ids of the risk checks.
const (
	// FindingInterpreter: a rule allows an interpreter or LOLBin (error; warning when the
	// policy records it as allowed by a forced decision).
	FindingInterpreter = "EDR017"
	// FindingRiskySigner: a signer rule (not narrowed) names a signer that also signs much of
	// an operating system or of other vendors' software (error; warning when forced).
	FindingRiskySigner = "EDR018"
	// FindingUnsealedBundle: an executable of an app bundle whose resources are not sealed
	// (no _CodeSignature): its rule trusts the executable only.
	FindingUnsealedBundle = "EDR019"
)

// riskFindingRules are the catalogue entries of the risk findings (FindingRules).
func riskFindingRules() []FindingRule {
	return []FindingRule{
		{FindingInterpreter, LevelError, "rule allows an interpreter or living-off-the-land binary: every script it runs is allowed"},
		{FindingRiskySigner, LevelError, "signer rule names a signer that also signs much of an operating system or other vendors' software"},
		{FindingUnsealedBundle, LevelWarning, "executable of an app bundle whose resources are not sealed"},
	}
}

// forcedFiles returns the files the policy's warnings of code record as forced.
func (p *Policy) forcedFiles(code string) map[string]bool {
	out := map[string]bool{}
	for _, w := range p.Warnings {
		if w.Code == code {
			for _, f := range w.Files {
				out[f] = true
			}
		}
	}
	return out
}

// lintRisk reports rules that allow an interpreter or LOLBin, recognised by the names the
// policy holds (each file's name, a signer rule's file_name or signing_id; the simulation
// also recognises renamed copies by their evidence), and signer rules that name a risky
// signer.
func (c *checker) lintRisk() {
	forcedI := c.pol.forcedFiles(WarnInterpreterForced)
	forcedS := c.pol.forcedFiles(WarnRiskySignerForced)
	for i := range c.pol.Rules {
		r := &c.pol.Rules[i]
		if m, file := interpreterOf(r, c.interp); m != nil {
			c.interpreterFinding(i, file, m, anyForced(forcedI, r.Files))
		}
		if e := riskySignerOf(r, c.risky); e != nil {
			level, note := LevelError, ": remove the pin and regenerate (its files then get rules narrowed to them)"
			if anyForced(forcedS, r.Files) {
				level, note = LevelWarning, " (pinned by an explicit override: forced)"
			}
			c.add(FindingRiskySigner, level, i, firstFile(r.Files), "%s%s", riskySignerText(r, e), note)
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

func (c *checker) interpreterFinding(i int, file string, m *InterpreterMatch, forced bool) {
	level, note := LevelError, ": remove the rule, or keep it knowing what it allows (a forced decision records it)"
	if forced {
		level, note = LevelWarning, " (allowed by an explicit override: forced)"
	}
	c.add(FindingInterpreter, level, i, file, "%s%s", interpreterText(file, m), note)
}

// ruleName is a name a rule's own fields give, the file it is about and where it came from.
type ruleName struct{ name, file, by string }

// ruleNames are the file names a rule's own fields give: each file's base name, the
// file_name and the signing_id's last part.
func ruleNames(r *Rule) []ruleName {
	var out []ruleName
	if r.Criterion != CriterionPath || r.Match == MatchFile || r.Match == "" {
		for _, f := range r.Files {
			base := path.Base(strings.ReplaceAll(f, `\`, "/"))
			out = append(out, ruleName{base, f, "file name " + base})
		}
	}
	if r.FileName != "" {
		out = append(out, ruleName{r.FileName, firstFile(r.Files), "file_name " + r.FileName})
	}
	if r.SigningID != "" {
		id := r.SigningID
		if j := strings.LastIndexByte(id, '.'); j >= 0 {
			id = id[j+1:]
		}
		out = append(out, ruleName{id, firstFile(r.Files), "signing_id " + r.SigningID})
	}
	return out
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
	forced := anyForced(c.pol.forcedFiles(WarnInterpreterForced), e.endpoints)
	c.interpreterFinding(rule, firstFile(e.endpoints), m, forced)
}

// interpreterNote is added to the not-covered message of an interpreter: generate leaves it
// without a rule on purpose.
func (c *checker) interpreterNote(f *FileEvidence) string {
	if m := c.interp.Match(f); m != nil {
		return fmt.Sprintf(" (%s: generate writes no rule for it unless forced)", m.Text())
	}
	return ""
}

// simUnsealed reports an executable of an app bundle whose resources are not sealed.
func (c *checker) simUnsealed(e *simExec) {
	if b, ok := inUnsealed(c.unsealedB, e.file); ok {
		c.add(FindingUnsealedBundle, LevelWarning, -1, firstFile(e.endpoints), "%s: %s", b, unsealedText)
	}
}
