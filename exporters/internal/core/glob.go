package core

import "strings"

// PathMatcher matches vendor path patterns against endpoint paths the way one vendor's
// matching is simulated: which characters are wildcards, whether case is folded, whether
// "**" crosses folders. The zero value is a case-sensitive, '/'-separated matcher where '*'
// and '?' are the only wildcards and stay within one path segment.
type PathMatcher struct {
	// Backslash: '\' separates segments as '/' does (Windows paths).
	Backslash bool
	// Fold: compare case-insensitively (Windows paths are case-insensitive).
	Fold bool
	// DoubleStar: a segment that is exactly "**" matches any number of segments, zero
	// included.
	DoubleStar bool
	// NoQuestion: '?' is a literal character, not a wildcard.
	NoQuestion bool
}

// maxSegments bounds the work of one match: paths deeper than this never match.
const maxSegments = 512

// Split returns the path's segments in the matcher's form: separators unified, case folded
// when Fold is set, empty segments (doubled or trailing separators) dropped.
func (m PathMatcher) Split(p string) []string {
	if m.Backslash {
		p = strings.ReplaceAll(p, `\`, "/")
	}
	if m.Fold {
		p = strings.ToLower(p)
	}
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Match reports whether pattern matches the whole of name.
func (m PathMatcher) Match(pattern, name string) bool {
	return m.matchSegs(m.Split(pattern), m.Split(name))
}

// MatchAncestor reports whether pattern matches name or one of its parent folders (a folder
// exclusion that covers everything below it).
func (m PathMatcher) MatchAncestor(pattern, name string) bool {
	ps, ns := m.Split(pattern), m.Split(name)
	for n := len(ns); n >= 1; n-- {
		if m.matchSegs(ps, ns[:n]) {
			return true
		}
	}
	return false
}

// MatchParent reports whether pattern matches the folder name is directly in.
func (m PathMatcher) MatchParent(pattern, name string) bool {
	ns := m.Split(name)
	if len(ns) < 2 {
		return false
	}
	return m.matchSegs(m.Split(pattern), ns[:len(ns)-1])
}

// MatchBelow reports whether pattern matches a folder that name is in, at any depth.
func (m PathMatcher) MatchBelow(pattern, name string) bool {
	ps, ns := m.Split(pattern), m.Split(name)
	for n := len(ns) - 1; n >= 1; n-- {
		if m.matchSegs(ps, ns[:n]) {
			return true
		}
	}
	return false
}

// matchSegs matches pattern segments against name segments with dynamic programming (no
// backtracking, so no pattern makes it slow): ok[j] says whether the pattern so far matches
// the first j name segments.
func (m PathMatcher) matchSegs(ps, ns []string) bool {
	if len(ps) > maxSegments || len(ns) > maxSegments || len(ps) == 0 {
		return false
	}
	ok := make([]bool, len(ns)+1)
	ok[0] = true
	for _, p := range ps {
		next := make([]bool, len(ns)+1)
		if m.DoubleStar && p == "**" {
			seen := false
			for j := 0; j <= len(ns); j++ {
				seen = seen || ok[j]
				next[j] = seen
			}
		} else {
			for j := 1; j <= len(ns); j++ {
				next[j] = ok[j-1] && m.matchSegment(p, ns[j-1])
			}
		}
		ok = next
	}
	return ok[len(ns)]
}

// matchSegment matches one segment: '*' is any run of characters, '?' one character (unless
// NoQuestion), everything else literal. Runes, not bytes.
func (m PathMatcher) matchSegment(p, s string) bool {
	if !strings.ContainsAny(p, "*?") {
		return p == s
	}
	pr, sr := []rune(p), []rune(s)
	if len(pr)*len(sr) > 1<<20 {
		return false
	}
	ok := make([]bool, len(sr)+1)
	ok[0] = true
	for _, c := range pr {
		next := make([]bool, len(sr)+1)
		switch {
		case c == '*':
			seen := false
			for j := 0; j <= len(sr); j++ {
				seen = seen || ok[j]
				next[j] = seen
			}
		case c == '?' && !m.NoQuestion:
			for j := 1; j <= len(sr); j++ {
				next[j] = ok[j-1]
			}
		default:
			for j := 1; j <= len(sr); j++ {
				next[j] = ok[j-1] && sr[j-1] == c
			}
		}
		ok = next
	}
	return ok[len(sr)]
}

// Concrete returns a path rule value with each policy wildcard '*' replaced by a name, so
// that the result is one real path the rule covers (a probe for simulation).
func Concrete(value string) string {
	if !strings.Contains(value, "*") {
		return value
	}
	return strings.ReplaceAll(value, "*", "edrpolicy-probe")
}
