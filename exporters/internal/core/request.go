package core

import (
	"errors"
	"fmt"
	"slices"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
)

// Request is a policy admitted for export: the only input an exporter takes. Admit makes one
// after judging every rule as the CLI does (edrpolicy.Policy.RefusalsWith: the path
// guardrails, executable folder rules, interpreters, risky signers), so that no route to a
// vendor file (exporters.Collect, a vendor's own Export, a third-party exporter) can skip
// that judgement. A Request holds its own copy of the policy: changing the caller's policy
// after Admit changes nothing in it.
type Request struct {
	policy   *edrpolicy.Policy
	opts     Options
	warnings []edrpolicy.Warning
}

// ErrNotAdmitted is returned by an exporter given a Request that Admit did not make (its zero
// value).
var ErrNotAdmitted = errors.New("the export request was not made by Admit: nothing is exported without the refusals applied")

// Admit judges p for export with o and returns the request the exporters take, or the
// refusals as a *edrpolicy.GuardrailError: a rule the guardrails refuse (a drive root, a temp
// folder, a bare wildcard, an environment variable, a UNC spelling...), an executable rule
// over a folder, a rule that allows an interpreter or living-off-the-land binary, a signer
// rule that names a risky signer. o.Force overrides every refusal but the executable folder
// one, each then a warning of the request (Warnings). The policy's own warnings are not
// trusted: anyone can write a guardrail-forced warning into a policy file.
//
// When the policy asked for a governance expiry and o.Expiration is empty, the request's
// Expiration is "rule": every vendor writes each rule's expiry.
func Admit(p *edrpolicy.Policy, o Options) (*Request, error) {
	if p == nil {
		return nil, errors.New("exporters: nil policy")
	}
	if o.Expiration == "" && p.Governance.ExpiresSet() {
		o.Expiration = "rule"
	}
	r := &Request{policy: clonePolicy(p), opts: o}
	ge := r.policy.RefusalsWith(edrpolicy.RefusalOptions{Guardrails: o.Guardrails, RiskySigners: o.RiskySigners, Interpreters: o.Interpreters})
	if ge == nil {
		return r, nil
	}
	if !o.Force || !ge.Forcible() {
		return nil, ge
	}
	for _, ref := range ge.Refusals {
		r.warnings = append(r.warnings, forcedWarning(ref))
	}
	return r, nil
}

// forcedWarning records a refusal that Options.Force overrode.
func forcedWarning(ref edrpolicy.Refusal) edrpolicy.Warning {
	switch ref.ID {
	case edrpolicy.FindingInterpreter:
		return edrpolicy.Warning{Code: edrpolicy.WarnInterpreterForced, Message: fmt.Sprintf("rule exported although %s: the refusal was overridden (forced)", ref.Reason), Files: []string{ref.Path}}
	case edrpolicy.FindingRiskySigner:
		return edrpolicy.Warning{Code: edrpolicy.WarnRiskySignerForced, Message: fmt.Sprintf("rule exported although the %s: the refusal was overridden (forced)", ref.Reason), Files: []string{ref.Path}}
	}
	return edrpolicy.Warning{Code: edrpolicy.WarnGuardrailForced, Message: fmt.Sprintf("path rule %s exported although it is %s: the refusal was overridden (forced)", ref.Path, ref.Reason), Files: []string{ref.Path}}
}

// Policy returns a copy of the admitted policy, made on each call: changing it cannot reach
// what the request exports, so the refusals Admit applied hold for every vendor file made
// from the request (nil for a request not made by Admit).
func (r *Request) Policy() *edrpolicy.Policy {
	if !r.Admitted() {
		return nil
	}
	return clonePolicy(r.policy)
}

// Options returns the options the policy was admitted with (Expiration filled in, see Admit).
func (r *Request) Options() Options { return r.opts }

// Warnings returns the refusals Options.Force overrode, one warning each.
func (r *Request) Warnings() []edrpolicy.Warning {
	return append([]edrpolicy.Warning(nil), r.warnings...)
}

// Admitted reports whether r was made by Admit; exporters refuse any other (ErrNotAdmitted).
func (r *Request) Admitted() bool { return r != nil && r.policy != nil }

// clonePolicy copies what an exporter reads of p, so that the caller's later changes cannot
// reach an admitted request: the rules with their files, digests, signer and certificate.
func clonePolicy(p *edrpolicy.Policy) *edrpolicy.Policy {
	c := *p
	c.Rules = make([]edrpolicy.Rule, len(p.Rules))
	for i, r := range p.Rules {
		r.Files = slices.Clone(r.Files)
		r.FileDigests = slices.Clone(r.FileDigests)
		r.Certificate = slices.Clone(r.Certificate)
		if r.Signer != nil {
			s := *r.Signer
			s.Raw = slices.Clone(s.Raw)
			r.Signer = &s
		}
		c.Rules[i] = r
	}
	c.Warnings = slices.Clone(p.Warnings)
	if p.Governance != nil {
		g := *p.Governance
		c.Governance = &g
	}
	return &c
}
