package macho

import (
	"fmt"
	"math"
	"math/rand"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
)

// naiveRule and naiveSealed are the seal check as it was before issue #12 (every rule tried
// against every path), kept as the reference the indexed version must agree with.
type naiveRule struct {
	re     *regexp.Regexp
	weight float64
	omit   bool
}

func naiveCompile(raw map[string]any) []naiveRule {
	var out []naiveRule
	for pat, val := range raw {
		re, err := regexp.Compile(pat)
		if err != nil {
			continue
		}
		r := naiveRule{re: re, weight: 1}
		if m, ok := val.(map[string]any); ok {
			if w, ok := toFloat(m["weight"]); ok {
				r.weight = w
			}
			if o, ok := m["omit"].(bool); ok {
				r.omit = o
			}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].re.String() < out[j].re.String() })
	return out
}

func naiveSealed(rules []naiveRule, rel string) bool {
	best, found := naiveRule{}, false
	for _, r := range rules {
		if r.re.MatchString(rel) && (!found || r.weight > best.weight) {
			best, found = r, true
		}
	}
	return found && !best.omit
}

var samplePaths = []string{
	"", "Info.plist", "PkgInfo", "Resources/greeting.txt", "Resources/en.lproj/a.txt",
	"Resources/en.lproj/locversion.plist", "Resources/Base.lproj/x", "Base.lproj/x", "MacOS/Fixture",
	"Frameworks/A.framework", "Helpers/helper", "a/.DS_Store", ".DS_Store", "version.plist",
	"embedded.provisionprofile", "Resources/f000001.txt", "resources/F000001.TXT", "Resources/x000001",
	"Info.plist\n", "Resources/\xff.txt", "Resources/\uFFFD.txt", "Library/LoginItems/x.app", "top",
}

func TestSealRulesMatchNaive(t *testing.T) {
	nan := math.NaN()
	sets := map[string]map[string]any{
		"Apple default": testfixtures.AppleDefaultRules2(),
		"exact and pattern for the same path": {
			`^Info\.plist$`:   map[string]any{"omit": true, "weight": 20.0},
			`^[I]nfo\.plist$`: map[string]any{"weight": 20.0},
			`^Info`:           map[string]any{"weight": 20.0},
			`^.*`:             true,
		},
		"equal weights decided by pattern order": {
			`^Resources/`:           map[string]any{"omit": true, "weight": 5.0},
			`^Resources/greeting`:   map[string]any{"weight": 5.0},
			`^Resources/greeting.*`: map[string]any{"omit": true, "weight": 5.0},
		},
		"case folding and unanchored": {
			`(?i)^resources/f0+1\.txt$`: map[string]any{"weight": 50.0},
			`\.txt$`:                    map[string]any{"omit": true, "weight": 40.0},
			`f000001`:                   map[string]any{"weight": 45.0},
			`^(?i)INFO\.PLIST$`:         map[string]any{"weight": 3.0},
		},
		"NaN and negative weights": {
			`^Resources/greeting\.txt$`: map[string]any{"weight": nan},
			`^Resources/`:               map[string]any{"omit": true, "weight": -1.0},
			`^.*`:                       map[string]any{"weight": nan, "omit": true},
		},
		"invalid and RE2-incompatible patterns skipped": {
			`^(?=x)`:                    true,
			`^(a)\1$`:                   true,
			`^Resources/[`:              true,
			`^Resources/.*$`:            map[string]any{"weight": 2.0},
			`^Resources/a\z`:            true,
			`^\x{FFFD}`:                 map[string]any{"omit": true, "weight": 9.0},
			`^Resources/\x{FFFD}\.txt$`: map[string]any{"omit": true, "weight": 9.0},
		},
		"multi-line and empty": {
			`(?m)^Info\.plist$`: map[string]any{"omit": true, "weight": 7.0},
			`^$`:                map[string]any{"omit": true, "weight": 8.0},
			`^`:                 true,
		},
	}
	for name, raw := range sets {
		t.Run(name, func(t *testing.T) {
			s, err := compileRules(raw)
			require.NoError(t, err)
			ref := naiveCompile(raw)
			for _, p := range samplePaths {
				assert.Equal(t, naiveSealed(ref, p), s.sealed(p), "path %q", p)
			}
		})
	}
}

// TestSealRulesRandom compares the indexed check with the naive one on random rule sets
// built from path pieces (exact paths, prefixes, suffixes, alternations, folded case).
func TestSealRulesRandom(t *testing.T) {
	rnd := rand.New(rand.NewSource(12))
	words := []string{"Resources", "MacOS", "Info", "en.lproj", "a", "b", "x.txt", "Base.lproj", "Helpers"}
	paths := func() []string {
		out := append([]string(nil), samplePaths...)
		for i := 0; i < 200; i++ {
			n := 1 + rnd.Intn(3)
			parts := make([]string, n)
			for j := range parts {
				parts[j] = words[rnd.Intn(len(words))]
			}
			out = append(out, strings.Join(parts, "/"))
		}
		return out
	}()
	for round := 0; round < 200; round++ {
		raw := map[string]any{}
		for i := 0; i < 1+rnd.Intn(12); i++ {
			w := words[rnd.Intn(len(words))]
			q := regexp.QuoteMeta(w)
			var pat string
			switch rnd.Intn(7) {
			case 0:
				pat = "^" + q + "$"
			case 1:
				pat = "^" + q + "/"
			case 2:
				pat = "^" + q + "/.*" + regexp.QuoteMeta(words[rnd.Intn(len(words))])
			case 3:
				pat = q + "$"
			case 4:
				pat = "(?i)^" + strings.ToLower(q)
			case 5:
				pat = "^(" + q + "|" + regexp.QuoteMeta(words[rnd.Intn(len(words))]) + ")/"
			default:
				pat = "^" + q + "/" + regexp.QuoteMeta(words[rnd.Intn(len(words))]) + "$"
			}
			var v any = true
			if rnd.Intn(3) > 0 {
				v = map[string]any{"weight": float64(rnd.Intn(4)), "omit": rnd.Intn(3) == 0}
			}
			raw[pat] = v
		}
		s, err := compileRules(raw)
		require.NoError(t, err)
		ref := naiveCompile(raw)
		for _, p := range paths {
			if naiveSealed(ref, p) != s.sealed(p) {
				t.Fatalf("rules %v, path %q: naive %v, indexed %v", raw, p, naiveSealed(ref, p), s.sealed(p))
			}
		}
	}
}

func TestSealRulesCaps(t *testing.T) {
	rules := func(n int, exact bool) map[string]any {
		m := testfixtures.AppleDefaultRules2() // 11 rules, 7 of them patterns
		for i := len(m); i < n; i++ {
			if exact {
				m[fmt.Sprintf(`^Resources/f%06d\.txt$`, i)] = true
			} else {
				m[fmt.Sprintf(`^Resources/.*x%06d`, i)] = true
			}
		}
		return m
	}
	_, err := compileRules(rules(maxSealPatternRules+4, false)) // 7 + 249 = 256 patterns
	assert.NoError(t, err)
	_, err = compileRules(rules(maxSealPatternRules+5, false))
	assert.ErrorIs(t, err, errSealRules)
	assert.ErrorContains(t, err, "rules2 has 257 regular-expression rules, at most 256 are supported")
	_, err = compileRules(rules(20_000, true))
	assert.NoError(t, err, "exact paths are indexed, not capped at the pattern limit")
	_, err = compileRules(rules(maxSealRules+1, true))
	assert.ErrorIs(t, err, errSealRules)
	assert.ErrorContains(t, err, "rules2 has 65537 entries")
}

// sealWorkload is N rules × N paths: exact rules, one per path, on top of Apple's defaults.
func sealWorkload(n int) (map[string]any, []string) {
	raw := testfixtures.AppleDefaultRules2()
	paths := make([]string, n)
	for i := 0; i < n; i++ {
		raw[fmt.Sprintf(`^Resources/f%06d\.txt$`, i)] = map[string]any{"weight": 30.0, "omit": i%2 == 0}
		paths[i] = fmt.Sprintf("Resources/f%06d.txt", i)
	}
	return raw, paths
}

// TestSealRules20k checks 20,000 rules against 20,000 paths in well under a second, with the
// verdicts of the naive check on a sample.
func TestSealRules20k(t *testing.T) {
	raw, paths := sealWorkload(20_000)
	start := time.Now()
	s, err := compileRules(raw)
	require.NoError(t, err)
	sealedN := 0
	for _, p := range paths {
		if s.sealed(p) {
			sealedN++
		}
	}
	elapsed := time.Since(start)
	t.Logf("20,000 rules × 20,000 paths: %v", elapsed)
	assert.Equal(t, 10_000, sealedN)
	assert.Less(t, elapsed, 5*time.Second)
	ref := naiveCompile(raw)
	for i := 0; i < len(paths); i += 997 {
		assert.Equal(t, naiveSealed(ref, paths[i]), s.sealed(paths[i]), paths[i])
	}
}

// nsPerPath times check over the paths, repeated until at least 200 ms have passed.
func nsPerPath(paths []string, check func(string) bool) float64 {
	n, start := 0, time.Now()
	for time.Since(start) < 200*time.Millisecond {
		for _, p := range paths {
			check(p)
		}
		n += len(paths)
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// BenchmarkSealRules runs the naive (before issue #12) and the indexed check on the same
// workloads, N rules × N paths, in one run: "old-ns/path" is the naive check, timed before
// the benchmark loop (testing.Benchmark cannot run inside a benchmark), and "old/new" the
// ratio of the times per path.
func BenchmarkSealRules(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		raw, paths := sealWorkload(n)
		ref := naiveCompile(raw)
		s, err := compileRules(raw)
		if err != nil {
			b.Fatal(err)
		}
		old := nsPerPath(paths, func(p string) bool { return naiveSealed(ref, p) })
		b.Run(fmt.Sprintf("rules=files=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p := paths[i%len(paths)]
				if s.sealed(p) != ((i%len(paths))%2 == 1) {
					b.Fatalf("%s: wrong verdict", p)
				}
			}
			b.ReportMetric(old, "old-ns/path")
			b.ReportMetric(old/(float64(b.Elapsed().Nanoseconds())/float64(b.N)), "old/new")
		})
	}
}
