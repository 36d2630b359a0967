package edrpolicy

import (
	"strings"

	"github.com/edrpolicy/edrpolicy/signers"
)

// markTimestamped sets Rule.Timestamped on each signer rule whose covering signatures (those
// of the files it was decided from) all carry a verified timestamp inside the leaf
// certificate's validity: such signatures stay valid after the certificate expires.
func markTimestamped(rules []Rule, execs []*verdict) {
	for i := range rules {
		r := &rules[i]
		if r.Criterion != CriterionSigner {
			continue
		}
		found, all := false, true
		for _, v := range execs {
			if v.crit != CriterionSigner || v.sig == nil || !sharesEndpoint(r.Files, v.endpoints) || !sameSigner(r, v.sig) {
				continue
			}
			found = true
			all = all && timestampedInValidity(v.sig)
		}
		r.Timestamped = found && all
	}
}

// sameSigner reports whether signature s is from signer rule r's Team ID or certificate.
func sameSigner(r *Rule, s *signers.Signature) bool {
	if r.TeamID != "" {
		return s.TeamID == r.TeamID
	}
	return s.Signer != nil && (strings.EqualFold(r.Value, s.Signer.ThumbprintSHA1) || strings.EqualFold(r.Value, s.Signer.ThumbprintSHA256))
}

func sharesEndpoint(files, endpoints []string) bool {
	for _, f := range files {
		for _, e := range endpoints {
			if f == e {
				return true
			}
		}
	}
	return false
}

// timestampedInValidity reports whether signature s carries a verified timestamp, from a
// time-stamping authority whose chain is trusted, that lies within its leaf certificate's
// validity.
func timestampedInValidity(s *signers.Signature) bool {
	if s == nil || s.Timestamp == nil || s.Signer == nil || s.TimestampChain != signers.ChainTrusted {
		return false
	}
	t := *s.Timestamp
	return !t.Before(s.Signer.NotBefore) && !t.After(s.Signer.NotAfter)
}
