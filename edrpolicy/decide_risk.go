package edrpolicy

import (
	"errors"
	"fmt"
	"strings"
)

// forcedInterpreterNote is what the reason of a rule over a forced interpreter says.
const forcedInterpreterNote = "allowed by an explicit override (forced)"

// riskLists returns the lists Decide and Check use: the options' or the embedded ones.
func riskLists(rs *RiskySigners, in *Interpreters) (*RiskySigners, *Interpreters) {
	if rs == nil {
		rs = DefaultRiskySigners()
	}
	if in == nil {
		in = DefaultInterpreters()
	}
	return rs, in
}

// interpreterVerdicts returns the verdicts that get a rule. An interpreter or LOLBin
// (Interpreters.Match: by file name, PE OriginalFilename or signing identifier) gets none:
// an allow rule of any kind for node.exe or python3 allows every script run with it, which is
// the whole point of an EDR watching them. The user decides (WarnInterpreter, generate exits
// 1): DecideOptions.Force writes the rules anyway, each reason saying so.
func (d *decider) interpreterVerdicts(execs []*verdict) []*verdict {
	var ruled []*verdict
	var skipped, forced []string
	var why []string
	for _, v := range execs {
		m := d.interp.Match(v.file)
		if m == nil {
			ruled = append(ruled, v)
			continue
		}
		why = appendUnique(why, m.Name+" ("+m.By+")")
		if d.opts.Force {
			v.interpreter = m
			ruled = append(ruled, v)
			forced = append(forced, v.endpoints...)
			continue
		}
		skipped = append(skipped, v.endpoints...)
	}
	if len(skipped) > 0 {
		d.warn = append(d.warn, Warning{Code: WarnInterpreter, Message: fmt.Sprintf("%d file(s) are interpreters or living-off-the-land binaries (%s): no rule was written for them, since an allow rule of any kind (hash, signer, path) allows every script or command run with them; the EDR may block them; force the decision to allow them anyway", len(skipped), strings.Join(why, ", ")), Files: dedupe(skipped)})
	}
	if len(forced) > 0 {
		d.warn = append(d.warn, Warning{Code: WarnInterpreterForced, Message: fmt.Sprintf("%d file(s) are interpreters or living-off-the-land binaries (%s), allowed by an explicit override (forced): every script or command run with them is allowed too", len(forced), strings.Join(why, ", ")), Files: dedupe(forced)})
	}
	return ruled
}

// markForcedInterpreters appends to the reason of each rule over a forced interpreter what it
// allows.
func (d *decider) markForcedInterpreters(rules []Rule, ruled []*verdict) {
	for _, v := range ruled {
		if v.interpreter == nil {
			continue
		}
		for i := range rules {
			if sharesFile(rules[i].Files, v.endpoints) && !strings.Contains(rules[i].Reason, forcedInterpreterNote) {
				rules[i].Reason += "; " + v.interpreter.Name + " is " + article(v.interpreter.Entry.Kind) + ": " + forcedInterpreterNote + ", every script run with it is allowed too"
			}
		}
	}
}

func sharesFile(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// RiskySignerError is the refusal of signer rules that name a signer which also signs much
// of an operating system or of other vendors' software (RiskySigners). Each refusal is one
// error of the join, one line on the CLI.
type RiskySignerError struct {
	Refusals []error
}

func (e *RiskySignerError) Error() string { return errors.Join(e.Refusals...).Error() }

// Unwrap returns the refusals (errors.Join's form, so the CLI prints one per line).
func (e *RiskySignerError) Unwrap() []error { return e.Refusals }

// riskySigners refuses, unless Force, every signer rule that is not narrowed to its files
// (a pinned or expected signer) whose certificate is on the risky list; with Force each is a
// warning and its reason says so. Narrowed signer rules are not refused: they name the file
// too, and the exporters write them as the files' hashes.
func (d *decider) riskySigners(rules []Rule) error {
	var refusals []error
	for i := range rules {
		r := &rules[i]
		if r.Criterion != CriterionSigner || r.FileName != "" || r.SigningID != "" || r.Signer == nil {
			continue
		}
		e := d.risky.Match(r.Signer)
		if e == nil {
			continue
		}
		what := fmt.Sprintf("signer %s (%s, thumbprint %s)", orUnknown(r.Signer.CommonName), e.Title, r.Value)
		if !d.opts.Force {
			refusals = append(refusals, fmt.Errorf("%s refused: %s (%s); do not pin it: without the pin each of its files gets a rule narrowed to that file (or force the decision)", what, e.Reason, strings.Join(e.Sources, "; ")))
			continue
		}
		r.Reason += "; the signer also signs much else (" + e.Title + "): pinned by an explicit override (forced)"
		d.warn = append(d.warn, Warning{Code: WarnRiskySignerForced, Message: fmt.Sprintf("%s pinned although %s: the refusal was overridden (forced)", what, e.Reason), Files: r.Files})
	}
	if len(refusals) > 0 {
		return &RiskySignerError{Refusals: refusals}
	}
	return nil
}
