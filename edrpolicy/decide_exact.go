package edrpolicy

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/signers"
)

// FileDigest is one file a signer or executable path rule covers, with its content digests:
// what an exporter needs to fall back to hash entries for a vendor that cannot express the
// rule itself (no vendor can express a signer rule narrowed to one file; Defender certificate
// indicators apply on Windows only; a path with a character the vendor reads as a pattern
// cannot name exactly that file). SHA1 and MD5 are there when the inspection computed them
// (generate asks for them when a vendor takes them).
type FileDigest struct {
	// Path is the endpoint path, as in the rule's files.
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	SHA1   string `json:"sha1,omitempty"`
	MD5    string `json:"md5,omitempty"`
	// Chain, Anchor and Timestamp are, on signer rules, what the file's covering signature
	// showed: the chain verdict (trusted, unknown-root, ...), the root a trusted chain ends
	// at (apple, system, roots), whether the leaf was pinned, and the signing time a
	// timestamp vouches for (RFC 3339, with the time-stamping authority's chain verdict).
	// The report shows them; no exporter uses them.
	Chain          string `json:"chain,omitempty"`
	Anchor         string `json:"anchor,omitempty"`
	Pinned         bool   `json:"pinned,omitempty"`
	Timestamp      string `json:"timestamp,omitempty"`
	TimestampChain string `json:"timestamp_chain,omitempty"`
}

// addFileDigests records v's file under each of its endpoint paths on r, once per path.
func addFileDigests(r *Rule, v *verdict, pinned bool) {
	for _, e := range v.endpoints {
		dup := false
		for _, fd := range r.FileDigests {
			if fd.Path == e {
				dup = true
				break
			}
		}
		if !dup {
			fd := FileDigest{Path: e, SHA256: v.file.SHA256, SHA1: v.file.SHA1, MD5: v.file.MD5}
			if s := v.sig; s != nil {
				fd.Chain, fd.Anchor, fd.Pinned = string(s.Chain), string(s.Anchor), pinned
				if s.Timestamp != nil {
					fd.Timestamp, fd.TimestampChain = s.Timestamp.UTC().Format(time.RFC3339), string(s.TimestampChain)
				}
			}
			r.FileDigests = append(r.FileDigests, fd)
		}
	}
}

func sortFileDigests(fds []FileDigest) {
	sort.Slice(fds, func(i, j int) bool {
		if fds[i].Path != fds[j].Path {
			return fds[i].Path < fds[j].Path
		}
		return fds[i].SHA256 < fds[j].SHA256
	})
}

// broadSigner reports whether a signer rule for s covers everything the signer signs (the
// leaf is pinned, or it is the profile's expected signer) rather than being narrowed to the
// file (file_name or signing_id).
func (d *decider) broadSigner(s *signers.Signature) bool {
	return d.judge.pinned(s) || d.expectedSigner(s)
}

// exactPathOrHash adjusts a verdict after the level's choice:
//
//   - at --level path, a signer rule that would be narrowed to the file becomes the exact
//     path rule the level allows: no EDR console can express "this signer, this file name"
//     (a certificate entry covers everything the certificate signs), so the narrowed rule
//     would reach every console as something else, while the exact path is expressible;
//   - a path rule is never made for a file whose path holds a character a policy or vendor
//     pattern reads as pattern syntax (or a control character), nor for one whose exact path
//     the guardrails refuse (a file in a temp folder, a name that looks like an 8.3 short
//     name, ...): it gets a hash rule, with the reason, instead of failing the whole run.
func (d *decider) exactPathOrHash(v *verdict) {
	if v.crit == CriterionSigner && d.opts.Level == CriterionPath && !d.broadSigner(v.sig) {
		if why := d.patternProblem(v); why == "" {
			v.crit, v.sig = CriterionPath, nil
			v.reason = "valid signature, but the signer is neither pinned nor the profile's expected signer: a signer rule would be narrowed to this file, which no EDR console can express; the path level accepts the exact file path"
		}
		return
	}
	if v.crit != CriterionPath {
		return
	}
	if why := d.patternProblem(v); why != "" {
		v.crit = CriterionHash
		v.reason = why + "; a path rule could not name exactly this file, so its exact hash"
	}
}

// patternProblem says why v's file cannot be named by an exact path rule, or "": a pattern or
// control character in its path, or a guardrail refusing one of its endpoint paths. It judges
// the inspected part of the path (and the inspected root when no install path maps it): the
// install folder a profile gives may hold the policy's own '*' (a user folder).
func (d *decider) patternProblem(v *verdict) string {
	if why := patternChar(v.file.Path, false); why != "" {
		return why
	}
	if _, mapped := d.opts.InstallPaths[v.file.Root]; !mapped && v.file.Root != "" {
		if why := patternChar(v.file.Root, d.opts.OS == profile.OSWindows); why != "" {
			return why
		}
	}
	for _, e := range v.endpoints {
		if why := JudgePathRule(d.opts.OS, e, d.opts.Guardrails); why != "" {
			return fmt.Sprintf("the guardrails refuse a path rule for %s (%s)", e, why)
		}
	}
	return ""
}

// patternChar says why a file or folder name (or a path made of such names) cannot be
// written literally into a path rule, or "" when it can. backslashSep says whether '\' is a
// separator in name (a Windows path) rather than a character of a name (an inspected path,
// always '/'-separated, or a macOS or Linux path). In a policy path rule '*' is the
// policy's wildcard, and EDR consoles read more characters as pattern syntax with no
// documented escape: '*' and '?' (Defender, mdatp, Falcon, SentinelOne), '%' (environment
// variables: Defender, SentinelOne 4.6+), '[', ']', '{', '}' (Falcon's glob, UNCONFIRMED),
// and a backslash inside a name (an escape in glob languages). Control characters
// (C0, DEL, C1) and bytes that are not UTF-8 cannot be written into every vendor file (a
// plist holds them as U+FFFD, which matches nothing).
func patternChar(name string, backslashSep bool) string {
	if !utf8.ValidString(name) {
		return "the path is not valid UTF-8"
	}
	for _, c := range name {
		switch {
		case unicode.IsControl(c):
			return fmt.Sprintf("the path holds the control character %U", c)
		case strings.ContainsRune("*?[]{}%", c):
			return fmt.Sprintf("the path holds %q, which the policy or an EDR console reads as pattern syntax", c)
		case c == '\\' && !backslashSep:
			return `a name holds '\', which glob patterns read as an escape and Windows as a separator`
		}
	}
	return ""
}
