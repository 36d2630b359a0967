package edrpolicy

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// hostRecorder is a fake host check: it refuses the folders it is told are world-writable,
// and counts its calls.
type hostRecorder struct {
	writable map[string]bool
	calls    int
}

func (h *hostRecorder) check(p string) string {
	h.calls++
	if h.writable[p] {
		return "a world-writable folder on this machine"
	}
	return ""
}

// Decide's only contact with a machine is the host check it is given: a fake one that marks
// the cache folder world-writable refuses its scan exclusion; without one, or for a policy of
// another OS, nothing is asked and the result is the pure one.
func TestDecideHostCheckIsAnInput(t *testing.T) {
	const cache = "/usr/local/crashplan/cache"
	linux := DecideOptions{Profile: code42(t), OS: "linux", Product: "crashplan", Version: "11.2.1", Now: testNow}
	empty := &Inventory{SchemaVersion: 1, Files: []FileEvidence{}}

	fake := &hostRecorder{writable: map[string]bool{cache: true}}
	opts := linux
	opts.Guardrails = GuardrailOptions{HostOS: profile.OSLinux, HostCheck: fake.check}
	_, err := Decide(empty, opts)
	var ge *GuardrailError
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, []Refusal{{ID: FindingGuardrail, Path: cache, Reason: "a world-writable folder on this machine"}}, ge.Refusals)
	assert.Positive(t, fake.calls)

	pol, err := Decide(empty, linux)
	require.NoError(t, err, "no host check: the pure judgment")
	assert.Contains(t, ruleValues(pol), cache)

	// A mac policy judged with this linux host's check: the check is never called.
	mac := &hostRecorder{writable: map[string]bool{"/Library/Caches/CrashPlan": true}}
	opts = DecideOptions{Profile: code42(t), OS: "mac", Product: "crashplan", Version: "11.2.1", Now: testNow,
		Guardrails: GuardrailOptions{HostOS: profile.OSLinux, HostCheck: mac.check}}
	_, err = Decide(empty, opts)
	require.NoError(t, err)
	assert.Zero(t, mac.calls, "a mac path says nothing about this machine")
}

// A folder that is world-writable on this very machine: the CLI's host check (HostGuardrails)
// refuses it, Decide without a host check does not look, and gives the pure result.
func TestDecideWithoutHostCheckIgnoresThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("makes a world-writable folder and judges it as a linux path")
	}
	p := *code42(t)
	empty := &Inventory{SchemaVersion: 1, Files: []FileEvidence{}}
	// A world-writable folder outside every folder the tables refuse by name (/tmp, /var/tmp,
	// ...): the checkout may itself be under /tmp (CI clones there), so try other bases.
	var dir string
	var opts DecideOptions
	bases := []string{"."}
	if c, err := os.UserCacheDir(); err == nil {
		bases = append(bases, c)
	}
	for _, base := range bases {
		d, err := os.MkdirTemp(base, "edrpolicy-ww-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { _ = os.RemoveAll(d) })
		if d, err = filepath.Abs(d); err != nil {
			continue
		}
		require.NoError(t, os.Chmod(d, 0o777))
		pp := p
		pp.Paths = append(append([]profile.PathRow(nil), p.Paths...), profile.PathRow{OS: profile.OSLinux, Use: "test cache", Role: profile.RoleCache, Path: d, Kind: "folder", Rule: profile.RuleScanExclusion})
		o := DecideOptions{Profile: &pp, OS: "linux", Product: "crashplan", Version: "11.2.1", Now: testNow}
		if _, err := Decide(empty, o); err == nil {
			dir, opts = d, o
			break
		}
	}
	if dir == "" {
		t.Skipf("no folder outside the refused ones to make world-writable (tried %v)", bases)
	}

	pol, err := Decide(empty, opts)
	require.NoError(t, err)
	assert.Contains(t, ruleValues(pol), dir)

	opts.Guardrails = HostGuardrails()
	_, err = Decide(empty, opts)
	var ge *GuardrailError
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, []Refusal{{ID: FindingGuardrail, Path: dir, Reason: "a world-writable folder on this machine"}}, ge.Refusals)
}
