package edrpolicy

import (
	"fmt"
	"strings"
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
// Options.Force), each then recorded as a warning. Check reports the same rules, with the same
// judgement, as findings of the same ids.
func RuleRefusals(r *Rule, policyOS string, o RefusalOptions) []Refusal {
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
// nil. Check's lint and RuleRefusals both use it, so that they agree on every rule.
func interpreterOf(r *Rule, in *Interpreters) (*InterpreterMatch, string) {
	if r.Role != "executable" {
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
