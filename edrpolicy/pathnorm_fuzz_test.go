package edrpolicy

import (
	"slices"
	"strings"
	"testing"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/internal/pathcases"
)

var fuzzPlatforms = profile.KnownOSes

// FuzzJudgePathRule checks properties of the path normalizer and judge on any value:
//
//   - it never panics, and gives the same answer twice;
//   - normalization is idempotent: each form normalizes to itself (and only to forms of the
//     value), with no ".", ".." or empty segment left;
//   - a refused value stays refused with "." segments inserted, a separator doubled, a
//     trailing separator added, or (Windows, and macOS without variables) its case changed;
//   - no accepted value names a protected folder, a folder above one, or a folder beneath a
//     temp or world-writable one (checked by plain segment comparison of each form, with the
//     every-user "*" taken as a user name).
func FuzzJudgePathRule(f *testing.F) {
	for _, c := range pathcases.All() {
		f.Add(uint8(slices.Index(fuzzPlatforms, c.Platform)), c.Value)
	}
	f.Fuzz(func(t *testing.T, p uint8, value string) {
		platform := fuzzPlatforms[int(p)%len(fuzzPlatforms)]
		why := CheckPathRule(platform, value)
		if again := CheckPathRule(platform, value); again != why {
			t.Fatalf("%s %q: %q then %q", platform, value, why, again)
		}
		forms, nwhy := normalizeRule(platform, value)
		if nwhy != "" && why != nwhy {
			t.Fatalf("%s %q: normalizer refuses (%q) but the judge says %q", platform, value, nwhy, why)
		}
		checkIdempotent(t, platform, value, forms)
		if why != "" {
			checkStaysRefused(t, platform, value)
			return
		}
		for _, form := range forms {
			checkNotProtected(t, platform, value, form)
		}
	})
}

func checkIdempotent(t *testing.T, platform profile.OS, value string, forms []pathForm) {
	all := map[string]bool{}
	for _, f := range forms {
		all[f.String()] = true
	}
	for _, f := range forms {
		for _, k := range f.keys {
			if k == "" || k == "." || k == ".." {
				t.Fatalf("%s %q: form %q keeps segment %q", platform, value, f.String(), k)
			}
		}
		again, why := NormalizePathRule(platform, f.String())
		if why != "" {
			t.Fatalf("%s %q: form %q does not normalize: %s", platform, value, f.String(), why)
		}
		if !slices.Contains(again, f.String()) {
			t.Fatalf("%s %q: form %q normalizes to %q", platform, value, f.String(), again)
		}
		for _, g := range again {
			if !all[g] {
				t.Fatalf("%s %q: form %q normalizes to %q, not a form of the value %v", platform, value, f.String(), g, forms)
			}
		}
	}
}

func checkStaysRefused(t *testing.T, platform profile.OS, value string) {
	v := strings.TrimSpace(value)
	if v == "" || len(v) > maxPathValue-16 {
		return
	}
	seps := "/"
	if platform == "windows" {
		seps = `/\`
	}
	var variants []string
	for i := 0; i < len(v); i++ {
		if strings.IndexByte(seps, v[i]) < 0 {
			continue
		}
		s := string(v[i])
		variants = append(variants, v[:i+1]+"."+s+v[i+1:], v[:i+1]+s+v[i+1:])
	}
	variants = append(variants, v+seps[:1], v+seps[len(seps)-1:])
	if platform == "windows" || platform == "mac" && !strings.ContainsAny(v, "$~") {
		variants = append(variants, strings.ToUpper(v), strings.ToLower(v))
	}
	for _, x := range variants {
		if CheckPathRule(platform, x) == "" {
			t.Fatalf("%s %q is refused (%s) but %q is accepted", platform, value, CheckPathRule(platform, value), x)
		}
	}
}

// checkNotProtected compares a form of an accepted value with every protected folder,
// segment by segment, the every-user "*" of both taken as the same user name.
func checkNotProtected(t *testing.T, platform profile.OS, value string, f pathForm) {
	keys := slices.Clone(f.keys)
	for i, k := range keys {
		if k == "*" {
			keys[i] = "bob"
		} else if isWild(k) {
			return // wildcards are the judge's business; the table test covers them
		}
	}
	if len(keys) == 0 {
		t.Fatalf("%s %q accepted as a root (%s)", platform, value, f.String())
	}
	for _, e := range guardTables[platform] {
		pk := slices.Clone(e.keys)
		for i, k := range pk {
			if k == "*" && i < len(keys) {
				pk[i] = keys[i]
			}
		}
		n := min(len(keys), len(pk))
		if !slices.Equal(keys[:n], pk[:n]) {
			continue
		}
		switch {
		case len(keys) <= len(pk):
			t.Fatalf("%s %q accepted, but its form %s is %s or above it", platform, value, f.String(), e.disp)
		case e.kind == guardUnder:
			t.Fatalf("%s %q accepted, but its form %s is beneath %s", platform, value, f.String(), e.disp)
		}
	}
}
