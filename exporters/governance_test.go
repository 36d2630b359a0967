package exporters_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/crowdstrike"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// governedSample decides the sample install at level signer, pinned, with governance, on day
// now, with prev as the previous policy.
func governedSample(t *testing.T, g edrpolicy.GovernanceOptions, now time.Time, prev *edrpolicy.Policy) *edrpolicy.Policy {
	t.Helper()
	prof, err := profile.BuiltIn("code42")
	require.NoError(t, err)
	pem, err := os.ReadFile(filepath.Join(sampleDir, "ca.pem"))
	require.NoError(t, err)
	roots, _, err := signers.ParseRoots(pem)
	require.NoError(t, err)
	pol, err := edrpolicy.Generate(context.Background(), edrpolicy.GenerateOptions{
		Roots: []string{filepath.Join(sampleDir, "windows")}, AppVersion: edrpolicy.VersionAuto,
		Inspect: edrpolicy.InspectOptions{Verify: signers.Options{Roots: roots}, Digests: hashing.Algorithms{SHA1: true}},
		Decide: edrpolicy.DecideOptions{Profile: prof, OS: "windows", Level: edrpolicy.CriterionSigner, Now: now, Governance: g, Previous: prev,
			PinSigners: []string{"ea85936ab6f5ee86cd20bb9323ef87bd4220a617"}},
	})
	require.NoError(t, err)
	return pol
}

func fileOf(t *testing.T, res *exporters.Result, name string) []byte {
	t.Helper()
	for _, f := range res.Files {
		if f.Name == name {
			return f.Data
		}
	}
	t.Fatalf("%s not written", name)
	return nil
}

// TestGovernanceInVendorFiles reads the governance values back from every vendor's files:
// Defender expirationTime (API) and ExpirationTime (CSV), Falcon IOC expiration, and the
// owner, justification and expiry day in every description and comment.
func TestGovernanceInVendorFiles(t *testing.T) {
	day := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	g := edrpolicy.GovernanceOptions{Owner: "secops@example.com", Justification: "CHG-4242", Expires: "90d"}
	pol := governedSample(t, g, day, nil)
	const exp = "2026-05-30T00:00:00Z" // 2026-03-01 + 90 days, midnight UTC
	for _, r := range pol.Rules {
		if r.Criterion == edrpolicy.CriterionSigner {
			assert.Equal(t, exp, r.Expires, "the sample leaf is valid until 2045")
		} else {
			assert.Equal(t, exp, r.Expires)
		}
	}
	opts, reg := exporters.Options{}, tenantRegistry(t)
	res, err := exporters.Collect(reg, pol, []string{"defender", "crowdstrike", "sentinelone"}, opts)
	require.NoError(t, err)
	wantDesc := func(what, desc string) {
		assert.Contains(t, desc, "; owner: secops@example.com; justification: CHG-4242; expires: 2026-05-30", what)
	}

	var dj defender.ImportBody
	require.NoError(t, json.Unmarshal(fileOf(t, res, "defender-indicators.json"), &dj))
	require.NotEmpty(t, dj.Indicators)
	for _, ind := range dj.Indicators {
		assert.Equal(t, exp, ind.ExpirationTime, ind.IndicatorValue)
		wantDesc("defender "+ind.IndicatorValue, ind.Description)
	}
	rows, err := csv.NewReader(bytes.NewReader(fileOf(t, res, "defender-indicators-001.csv"))).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 1)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows[1:] {
		assert.Equal(t, "2026-05-30T00:00:00.0Z", row[col["ExpirationTime"]], "CSV form of the same day")
		wantDesc("defender csv", row[col["Description"]])
	}

	var ioc crowdstrike.IOCBody
	require.NoError(t, json.Unmarshal(fileOf(t, res, "crowdstrike-ioc.json"), &ioc))
	require.NotEmpty(t, ioc.Indicators)
	for _, ind := range ioc.Indicators {
		assert.Equal(t, exp, ind.Expiration)
		wantDesc("falcon ioc", ind.Description)
	}
	var certs crowdstrike.CertExclusions
	require.NoError(t, json.Unmarshal(fileOf(t, res, "crowdstrike-cert-exclusions.json"), &certs))
	require.Len(t, certs.Exclusions, 1)
	wantDesc("falcon cert", certs.Exclusions[0].Description)
	var ml []crowdstrike.MLExclusion
	require.NoError(t, json.Unmarshal(fileOf(t, res, "crowdstrike-ml-exclusions.json"), &ml))
	require.NotEmpty(t, ml)
	for _, m := range ml {
		wantDesc("falcon ml", m.Comment)
	}
	var s1 []sentinelone.Body
	require.NoError(t, json.Unmarshal(fileOf(t, res, sentinelone.FileName), &s1))
	require.NotEmpty(t, s1)
	for _, b := range s1 {
		wantDesc("s1 "+b.Data.Value, b.Data.Description)
	}

	// The next day's run with the previous policy: every rule carried over, so every vendor
	// file is byte-identical (no churn in the consoles).
	next := governedSample(t, g, day.AddDate(0, 0, 1), pol)
	res2, err := exporters.Collect(reg, next, []string{"defender", "crowdstrike", "sentinelone"}, opts)
	require.NoError(t, err)
	require.Equal(t, len(res.Files), len(res2.Files))
	for i := range res.Files {
		assert.Equal(t, string(res.Files[i].Data), string(res2.Files[i].Data), res.Files[i].Name)
	}
	// Without the previous policy the new day's expiry differs: the carry is what keeps it.
	fresh := governedSample(t, g, day.AddDate(0, 0, 1), nil)
	assert.Equal(t, "2026-05-31T00:00:00Z", fresh.Rules[0].Expires)

	// Expiration "none" writes no expiry even so; a policy without a governance expiry writes
	// none by default (signer rules' certificate day is not an expiry the user asked for).
	opts.Expiration = "none"
	res3, err := exporters.Collect(reg, pol, []string{"defender"}, opts)
	require.NoError(t, err)
	assert.NotContains(t, string(fileOf(t, res3, "defender-indicators.json")), "expirationTime")
	plain := governedSample(t, edrpolicy.GovernanceOptions{}, day, nil)
	res4, err := exporters.Collect(exporters.Default(), plain, []string{"defender"}, exporters.Options{})
	require.NoError(t, err)
	assert.NotContains(t, string(fileOf(t, res4, "defender-indicators.json")), "expirationTime")
	assert.False(t, strings.Contains(string(fileOf(t, res4, "defender-indicators.json")), "expires:"))
}
