package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// profiles shows eras (with their products), signers, facts, advice and unknowns, in the
// table and in JSON.
func TestProfilesShowsEverything(t *testing.T) {
	code, out, errs := runCLI("profiles", "--format", "json")
	require.Equal(t, 0, code, errs)
	var docs []profileSummary
	require.NoError(t, json.Unmarshal([]byte(out), &docs))
	var c42 *profileSummary
	for i := range docs {
		if docs[i].Name == "code42" {
			c42 = &docs[i]
		}
	}
	require.NotNil(t, c42)
	var teams, eras []string
	for _, s := range c42.Signers {
		teams = append(teams, s.TeamID+"@"+s.Era+"/"+string(s.Confidence))
	}
	assert.Equal(t, []string{"9YV9435DHD@code42/inferred", "UGHXR79U6M@crashplan/inferred"}, teams)
	for _, e := range c42.Eras {
		eras = append(eras, e.Name+" "+string(e.Versions)+" "+strings.Join(e.Products, ","))
	}
	assert.Contains(t, eras, "crashplan >=11.0 crashplan")
	assert.Contains(t, eras, "code42 >=8.2 <12.0 incydr-basic,incydr-advanced,incydr-gov-f1,incydr-professional,incydr-enterprise,incydr-horizon,incydr-gov-f2")
	var facts []string
	for _, f := range c42.Facts {
		facts = append(facts, f.Kind+"="+f.Value)
	}
	assert.Contains(t, facts, "service=Code42Service")
	assert.Contains(t, facts, "package=com.code42.app.pkg")
	var quotes []string
	for _, a := range c42.Advice {
		quotes = append(quotes, a.Source+": "+a.Quote)
	}
	assert.Contains(t, quotes, "000: Do not proactively create exclusions for the Code42 app.")
	assert.Contains(t, quotes, "001: Most EDR tools allow you to create proactive exception policies to suppress alerts for specific behaviors or trusted applications.")
	assert.Equal(t, c42.Unknowns, len(c42.Gaps))
	assert.Equal(t, "paths", c42.Gaps[0].What)

	code, out, _ = runCLI("profiles")
	require.Equal(t, 0, code)
	for _, want := range []string{
		"\ncode42 eras:\n", "\ncode42 signers:\n", "\ncode42 facts:\n", "\ncode42 advice (the sources' own words):\n",
		"\ncode42 unknowns (no source gives them):\n", "\ncode42 sources:\n",
		`"Do not proactively create exclusions for the Code42 app."`,
		"team_id UGHXR79U6M",
		"Code42Service",
	} {
		assert.Contains(t, out, want)
	}
	assert.Regexp(t, `(?m)^  mac +era code42 +team_id 9YV9435DHD +inferred +Installomator`, out)
	assert.Regexp(t, `(?m)^  code42 +8\.2 and later, before 12\.0 +incydr-basic,`, out)
}
