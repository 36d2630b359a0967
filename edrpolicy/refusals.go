package edrpolicy

import (
	"fmt"
	"path"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// Refusal ids (Refusal.ID). They are also the ids of package check's findings about the same
// rules, which check reports as errors, or as warnings when a forced decision is recorded.
const (
	// FindingGuardrail: a path rule the guardrails refuse (JudgePathRule).
	FindingGuardrail = "EDR009"
	// FindingExecutableFolder: an executable-role path rule over a folder (match folder or
	// subfolders): never allowed, it trusts whatever lands there.
	FindingExecutableFolder = "EDR010"
	// FindingInterpreter: a rule allows an interpreter or LOLBin.
	FindingInterpreter = "EDR017"
	// FindingRiskySigner: a signer rule (not narrowed) names a signer that also signs much of
	// an operating system or of other vendors' software.
	FindingRiskySigner = "EDR018"
)

// RefusalOptions say what a policy's rules are judged against before they reach a vendor
// file (Policy.RefusalsWith, RuleRefusals). The zero value judges paths by their spelling
// alone, with the embedded risky-signer and interpreter lists.
type RefusalOptions struct {
	// Guardrails adds a host check to the path guardrails (see GuardrailOptions).
	Guardrails GuardrailOptions
	// RiskySigners and Interpreters are the lists Decide used (nil: DefaultRiskySigners and
	// DefaultInterpreters).
	RiskySigners *RiskySigners
	Interpreters *Interpreters
}

// RuleRefusals returns why rule r must not reach a vendor file, or nil:
//
//   - the path refusals (PathRuleRefusals): an executable rule over a folder
//     (FindingExecutableFolder), a path the guardrails refuse (FindingGuardrail);
//   - an executable rule whose own fields name an interpreter or living-off-the-land binary
//     (FindingInterpreter): a file name, a file_name or a signing_id the interpreter list
//     knows; an allow rule for one allows every script or command run with it;
//   - a signer rule not narrowed to its files whose certificate is on the risky-signer list
//     (FindingRiskySigner): it would allow much of an operating system or of other vendors'
//     software.
//
// Only the executable folder refusal is final; the others may be overridden (the exporters'
// Options.Force), each then recorded as a warning. Package check reports the same rules, with the same
// judgement, as findings of the same ids.
func RuleRefusals(r *Rule, policyOS profile.OS, o RefusalOptions) []Refusal {
	out := PathRuleRefusals(r, policyOS, o.Guardrails)
	rs, in := riskLists(o.RiskySigners, o.Interpreters)
	if m, file := interpreterOf(r, in); m != nil {
		out = append(out, Refusal{ID: FindingInterpreter, Path: file, Reason: interpreterText(file, m)})
	}
	if e := riskySignerOf(r, rs); e != nil {
		out = append(out, Refusal{ID: FindingRiskySigner, Path: firstFile(r.Files),
			Reason: riskySignerText(r, e)})
	}
	return out
}

// interpreterOf returns the interpreter or LOLBin an executable rule's own fields name (each
// file's base name, the file_name, the signing_id's last part) and the file it concerns, or
// nil. RuleRefusals uses it, and package check lints through RuleRefusals, so that they agree.
func interpreterOf(r *Rule, in *Interpreters) (*InterpreterMatch, string) {
	if r.Role != profile.RoleExecutable {
		return nil, ""
	}
	for _, n := range ruleNames(r) {
		if m := in.MatchName(n.name); m != nil {
			m.By = n.by
			return m, n.file
		}
	}
	return nil, ""
}

// riskySignerOf returns the risky-signer entry a signer rule that is not narrowed to its files
// names, or nil. Narrowed rules name the file too, and the exporters write them as the files'
// hashes.
func riskySignerOf(r *Rule, rs *RiskySigners) *RiskySigner {
	if r.Criterion != CriterionSigner || r.FileName != "" || r.SigningID != "" || r.Signer == nil {
		return nil
	}
	return rs.Match(r.Signer)
}

// RuleText says what a rule over file allows when file is the interpreter or LOLBin m
// matched: the reason of a FindingInterpreter refusal, and the message check gives a renamed
// copy its simulation finds by the file's evidence.
func (m *InterpreterMatch) RuleText(file string) string {
	return interpreterText(file, m)
}

// interpreterText says what a rule over an interpreter allows, for refusals and findings.
func interpreterText(file string, m *InterpreterMatch) string {
	return fmt.Sprintf("the rule allows %s: %s", file, strings.TrimPrefix(m.Text(), m.Name+" is "))
}

// riskySignerText says why a rule's signer is risky, for refusals and findings.
func riskySignerText(r *Rule, e *RiskySigner) string {
	return fmt.Sprintf("signer %s (%s) also signs much else: %s", orUnknown(r.Signer.CommonName), e.Title, e.Reason)
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
