package macho

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
	"unicode/utf8"
)

// Caps on the rules2 dictionary of a CodeResources file. Every file of a bundle that is not
// listed in the seal is judged against the rules, so the work is files × rules: a hostile
// CodeResources with 20,000 regular expressions over 20,000 files took over 4 minutes
// (issue #12). codesign writes the 11 rules of its default template (Apple's
// ResourceBuilder, resources.cpp; custom --resource-rules are deprecated), so real seals are
// nowhere near either cap.
const (
	// maxSealRules caps the rules2 entries, whatever their kind; exact paths are answered by
	// a map, so this only bounds memory and compile time.
	maxSealRules = 1 << 16
	// maxSealPatternRules caps the rules that need a regular expression (anything but an
	// exact "^literal$" path). Each may have to run on every unsealed file, so this bounds
	// the work per file.
	maxSealPatternRules = 256
)

// errSealRules reports a rules2 dictionary beyond the caps: the seal cannot be checked, so
// the bundle's signature is invalid.
var errSealRules = errors.New("resource rules beyond the supported limits")

// sealRule is one compiled rules2 entry.
type sealRule struct {
	pattern string
	exact   bool           // the pattern matches exactly one path, prefix
	re      *regexp.Regexp // compiled pattern; nil for an exact path
	prefix  string         // the exact path, or the literal every match starts with
	weight  float64
	omit    bool
}

// sealRules holds the compiled rules2 entries, indexed so that a path is tried only against
// the rules that can match it: exact paths ("^Info\.plist$") in a map, the others as regular
// expressions, skipped without running them when the path lacks their literal prefix.
type sealRules struct {
	rules    []sealRule       // sorted by pattern: the tie-break order of sealed
	exact    map[string][]int // path → indices of the exact rules for it, ascending
	patterns []int            // indices of the rules that need a regular expression, ascending
}

// compileRules compiles a rules2 dictionary once. Entries whose pattern RE2 cannot express
// (back-references, look-around) are skipped, as before. More entries than the caps give
// errSealRules.
func compileRules(raw map[string]any) (*sealRules, error) {
	if len(raw) > maxSealRules {
		return nil, fmt.Errorf("%w: rules2 has %d entries, at most %d are supported", errSealRules, len(raw), maxSealRules)
	}
	s := &sealRules{exact: map[string][]int{}}
	patterns := 0 // rules that need a regular expression, compiled once the count is known
	for pat, val := range raw {
		r := sealRule{pattern: pat, weight: 1}
		if m, ok := val.(map[string]any); ok {
			if w, ok := toFloat(m["weight"]); ok {
				r.weight = w
			}
			if o, ok := m["omit"].(bool); ok {
				r.omit = o
			}
		}
		tree, err := syntax.Parse(pat, syntax.Perl) // the flags regexp.Compile uses
		if err != nil {
			continue // an expression RE2 cannot express: the entry is skipped
		}
		r.prefix, r.exact = literalPath(tree)
		if !r.exact {
			patterns++
		}
		s.rules = append(s.rules, r)
	}
	if patterns > maxSealPatternRules {
		return nil, fmt.Errorf("%w: rules2 has %d regular-expression rules, at most %d are supported", errSealRules, patterns, maxSealPatternRules)
	}
	kept := s.rules[:0]
	for _, r := range s.rules {
		// Exact paths need no program, except a huge one, which regexp.Compile might refuse
		// as too large: it is then skipped, as before.
		if !r.exact || len(r.pattern) > 64<<10 {
			re, err := regexp.Compile(r.pattern)
			if err != nil {
				continue
			}
			if !r.exact {
				r.re = re
			}
		}
		kept = append(kept, r)
	}
	s.rules = kept
	sort.Slice(s.rules, func(i, j int) bool { return s.rules[i].pattern < s.rules[j].pattern })
	for i, r := range s.rules {
		if r.exact {
			s.exact[r.prefix] = append(s.exact[r.prefix], i)
		} else {
			s.patterns = append(s.patterns, i)
		}
	}
	return s, nil
}

// literalPath analyses a parsed pattern anchored at the start of the text ("^..."): lit is
// the literal every match begins with, and exact reports a pattern that matches exactly one
// path, lit ("^literal$"). Case-folded literals and literals holding U+FFFD (which also
// stands for invalid UTF-8 in a path) are not used, so that a plain string comparison always
// agrees with the regular expression.
func literalPath(t *syntax.Regexp) (lit string, exact bool) {
	if t == nil || t.Op != syntax.OpConcat || len(t.Sub) == 0 || t.Sub[0].Op != syntax.OpBeginText {
		return "", false
	}
	var b strings.Builder
	i := 1
	for ; i < len(t.Sub) && t.Sub[i].Op == syntax.OpLiteral && t.Sub[i].Flags&syntax.FoldCase == 0; i++ {
		b.WriteString(string(t.Sub[i].Rune))
	}
	lit = b.String()
	if strings.ContainsRune(lit, utf8.RuneError) {
		return "", false
	}
	return lit, i == len(t.Sub)-1 && t.Sub[i].Op == syntax.OpEndText
}

// defaultSealRules is the rule used when CodeResources has no rules2: everything is sealed.
func defaultSealRules() *sealRules {
	s, _ := compileRules(map[string]any{"^.*": true})
	return s
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// sealed reports whether the rules seal a contents-relative path: among the matching rules,
// taken in pattern order, the first one with the highest weight decides (a later rule wins
// only with a strictly greater weight); no match means not sealed. The exact rules for the
// path and the pattern rules that match it are merged in pattern order, so the verdict is
// the one of trying every rule in turn, in time independent of the number of exact rules.
func (s *sealRules) sealed(rel string) bool {
	best, found := 0, false
	consider := func(i int) {
		if !found || s.rules[i].weight > s.rules[best].weight {
			best, found = i, true
		}
	}
	ex := s.exact[rel]
	j := 0
	for _, i := range s.patterns {
		r := &s.rules[i]
		if r.prefix != "" && !strings.HasPrefix(rel, r.prefix) {
			continue
		}
		if !r.re.MatchString(rel) {
			continue
		}
		for ; j < len(ex) && ex[j] < i; j++ {
			consider(ex[j])
		}
		consider(i)
	}
	for ; j < len(ex); j++ {
		consider(ex[j])
	}
	return found && !s.rules[best].omit
}
