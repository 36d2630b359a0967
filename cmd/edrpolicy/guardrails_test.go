package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/internal/pathcases"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

// writePathPolicy writes a policy holding one cache path rule with value v.
func writePathPolicy(t *testing.T, file string, platform profile.OS, v string, warnings []edrpolicy.Warning) {
	t.Helper()
	p := edrpolicy.Policy{SchemaVersion: edrpolicy.SchemaVersion, Profile: "t", OS: platform, AppVersion: "1.0", Level: edrpolicy.CriterionHash,
		Rules: []edrpolicy.Rule{{Criterion: edrpolicy.CriterionPath, Value: v, Platform: platform, Role: "cache",
			Match: edrpolicy.MatchSubfolders, Files: []string{v}, Reason: "r", Source: "s"}},
		Warnings: warnings}
	data, err := json.Marshal(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, data, 0o644))
}

// writePathProfile writes a profile whose one path row (a cache scan exclusion) is v.
func writePathProfile(t *testing.T, file, platform, v string) {
	t.Helper()
	row := map[string]any{"os": platform, "use": "cache", "role": "cache", "path": v, "kind": "folder", "rule": "scan-exclusion", "source": "s", "confidence": "3rd-party"}
	prof := map[string]any{"schema_version": 1, "name": "t", "title": "t",
		"sources": []any{map[string]any{"id": "s", "title": "t", "ref": "r", "confidence": "3rd-party"}},
		"paths":   []any{row}}
	data, err := json.Marshal(prof)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, data, 0o644))
}

// Over the whole table of path spellings, for every platform: `check` fails (exit 1, an
// EDR009 error) exactly when `export` refuses (exit 2, "refused", nothing written), also when
// the policy carries a guardrail-forced warning for the path; `generate --profile FILE`
// refuses a profile row with the path (exit 2) exactly then. On the first refused value of
// each family, `export --force` and `generate --force --vendor` write the files with a
// guardrail-forced warning.
func TestCLIPathGuardrailsAgree(t *testing.T) {
	dir := t.TempDir()
	forcedFamily := map[string]bool{} // --force is tried on the first refused value of each family
	for i, c := range pathcases.All() {
		tryForce := c.Refused && !forcedFamily[string(c.Platform)+c.Family]
		forcedFamily[string(c.Platform)+c.Family] = forcedFamily[string(c.Platform)+c.Family] || tryForce
		name := fmt.Sprintf("%s %s %q", c.Family, c.Platform, c.Value)
		pol, prof := filepath.Join(dir, fmt.Sprintf("p%d.json", i)), filepath.Join(dir, fmt.Sprintf("prof%d.json", i))
		out := filepath.Join(dir, fmt.Sprintf("out%d", i))
		for _, forced := range []bool{false, true} {
			var warns []edrpolicy.Warning
			if forced {
				warns = []edrpolicy.Warning{{Code: edrpolicy.WarnGuardrailForced, Message: "kept with --force", Files: []string{c.Value}}}
			}
			writePathPolicy(t, pol, c.Platform, c.Value, warns)
			checkCode, checkOut, checkErr := runCLI("check", pol)
			exportCode, _, exportErr := runCLI("export", "--vendor", "defender", "--out", out, pol)
			if c.Refused {
				assert.Equal(t, exitAttention, checkCode, "check %s: %s%s", name, checkOut, checkErr)
				assert.Contains(t, checkOut, "EDR009", name)
				assert.Equal(t, exitError, exportCode, "export %s", name)
				assert.Contains(t, exportErr, "refused 1 path rule(s)", name)
				assert.NoDirExists(t, out, name)
				if tryForce {
					code, _, errs := runCLI("export", "--vendor", "defender", "--force", "--out", out, pol)
					assert.NotEqual(t, exitError, code, "export --force %s: %s", name, errs)
					assert.Contains(t, errs, "guardrail-forced", name)
				}
			} else {
				assert.Equal(t, exitOK, checkCode, "check %s: %s%s", name, checkOut, checkErr)
				assert.NotEqual(t, exitError, exportCode, "export %s: %s", name, exportErr)
			}
			require.NoError(t, os.RemoveAll(out))
		}
		writePathProfile(t, prof, string(c.Platform), c.Value)
		genCode, _, genErr := runCLI("generate", "--profile", prof, "--os", string(c.Platform), "--out", out)
		switch {
		case strings.Contains(c.Value, ".."):
			// The profile loader refuses ".." in any row before the guardrails see it.
			assert.Equal(t, exitError, genCode, "generate %s", name)
			assert.Contains(t, genErr, "contains ..", name)
		case c.Refused:
			assert.Equal(t, exitError, genCode, "generate %s: %s", name, genErr)
			assert.Contains(t, genErr, "refused 1 path rule(s)", name)
			assert.NoDirExists(t, out, name)
			if tryForce {
				code, _, errs := runCLI("generate", "--profile", prof, "--os", string(c.Platform), "--force", "--vendor", "defender", "--out", out)
				assert.NotEqual(t, exitError, code, "generate --force %s: %s", name, errs)
				assert.Contains(t, errs, "guardrail-forced", name)
			}
		default:
			assert.NotEqual(t, exitError, genCode, "generate %s: %s", name, genErr)
		}
		require.NoError(t, os.RemoveAll(out))
	}
}
