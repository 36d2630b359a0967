package profile

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a dotted numeric application version such as 8.2 or 11.0.1.27. Missing trailing
// components compare as zero, so 8.2 and 8.2.0 are equal.
type Version struct {
	parts []int
}

// ParseVersion parses "X", "X.Y", "X.Y.Z" or longer dotted numbers. A trailing non-numeric
// suffix after the numbers (" build 27", "-rc1", " (1234)") is ignored, because vendors put
// such text into PE version resources and Info.plist files.
func ParseVersion(s string) (Version, error) {
	orig := s
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.') {
		end++
	}
	num := strings.TrimRight(s[:end], ".")
	if num == "" {
		return Version{}, fmt.Errorf("version %q: want dotted numbers such as 8.2 or 11.0.1", orig)
	}
	fields := strings.Split(num, ".")
	parts := make([]int, 0, len(fields))
	for _, f := range fields {
		if f == "" {
			return Version{}, fmt.Errorf("version %q: empty component", orig)
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("version %q: component %q is not a number", orig, f)
		}
		parts = append(parts, n)
	}
	return Version{parts: parts}, nil
}

// IsZero reports whether v was never set.
func (v Version) IsZero() bool { return len(v.parts) == 0 }

// String returns the version as given, without padding.
func (v Version) String() string {
	s := make([]string, len(v.parts))
	for i, p := range v.parts {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ".")
}

// Len is the number of components given.
func (v Version) Len() int { return len(v.parts) }

func (v Version) at(i int) int {
	if i < len(v.parts) {
		return v.parts[i]
	}
	return 0
}

// Compare returns -1, 0 or +1. Missing components are zero.
func (v Version) Compare(w Version) int {
	n := max(len(v.parts), len(w.parts))
	for i := 0; i < n; i++ {
		a, b := v.at(i), w.at(i)
		if a < b {
			return -1
		}
		if a > b {
			return 1
		}
	}
	return 0
}

// comparePrefix compares v truncated to the length of bound with bound. This is how vendor
// documents speak: "8.0 and earlier" includes 8.0.5, "6.8.1 and earlier" includes 6.8.1.7.
func (v Version) comparePrefix(bound Version) int {
	t := Version{parts: make([]int, len(bound.parts))}
	for i := range t.parts {
		t.parts[i] = v.at(i)
	}
	return t.Compare(bound)
}

// Range is a version condition written as space-separated constraints that must all hold:
// "<=8.0", ">=8.2 <11.0", "<5.4 !=4.8 !=4.9". The empty string and "*" match every version.
//
// A constraint compares the version truncated to the constraint's own precision, which is how
// vendor documents speak: "<=8.0" ("8.0 and earlier") matches 8.0.5 but not 8.1; ">=6.8.2"
// matches 6.8.2.1; "!=4.8" excludes every 4.8.x. So "<=8.0" and ">=8.2" leave 8.1 in neither,
// and a profile declares such a gap explicitly (see Unknown).
type Range string

type constraint struct {
	op    string
	bound Version
}

func (r Range) constraints() ([]constraint, error) {
	s := strings.TrimSpace(string(r))
	if s == "" || s == "*" {
		return nil, nil
	}
	var out []constraint
	for _, f := range strings.Fields(s) {
		op := ""
		for _, cand := range []string{">=", "<=", "!=", ">", "<", "="} {
			if strings.HasPrefix(f, cand) {
				op = cand
				break
			}
		}
		if op == "" {
			return nil, fmt.Errorf("version range %q: constraint %q needs an operator (>=, <=, >, <, =, !=)", r, f)
		}
		v, err := ParseVersion(f[len(op):])
		if err != nil {
			return nil, fmt.Errorf("version range %q: %w", r, err)
		}
		if v.String() != f[len(op):] {
			return nil, fmt.Errorf("version range %q: bound %q must be plain dotted numbers", r, f[len(op):])
		}
		out = append(out, constraint{op: op, bound: v})
	}
	return out, nil
}

// Validate checks the syntax of the range.
func (r Range) Validate() error {
	_, err := r.constraints()
	return err
}

// Contains reports whether v satisfies every constraint. A malformed range contains nothing
// (profiles are validated when loaded, so this does not happen for a loaded profile).
func (r Range) Contains(v Version) bool {
	cs, err := r.constraints()
	if err != nil {
		return false
	}
	for _, c := range cs {
		d := v.comparePrefix(c.bound)
		ok := false
		switch c.op {
		case ">=":
			ok = d >= 0
		case "<=":
			ok = d <= 0
		case ">":
			ok = d > 0
		case "<":
			ok = d < 0
		case "=":
			ok = d == 0
		case "!=":
			ok = d != 0
		}
		if !ok {
			return false
		}
	}
	return true
}

// All reports whether the range places no condition at all.
func (r Range) All() bool {
	s := strings.TrimSpace(string(r))
	return s == "" || s == "*"
}

// Describe renders the range for people: "8.0 and earlier", "8.2 to before 11.0", "all versions".
func (r Range) Describe() string {
	cs, err := r.constraints()
	if err != nil {
		return string(r)
	}
	if len(cs) == 0 {
		return "all versions"
	}
	var parts []string
	for _, c := range cs {
		switch c.op {
		case ">=":
			parts = append(parts, c.bound.String()+" and later")
		case "<=":
			parts = append(parts, c.bound.String()+" and earlier")
		case ">":
			parts = append(parts, "after "+c.bound.String())
		case "<":
			parts = append(parts, "before "+c.bound.String())
		case "=":
			parts = append(parts, "exactly "+c.bound.String())
		case "!=":
			parts = append(parts, "except "+c.bound.String())
		}
	}
	return strings.Join(parts, ", ")
}
