package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/check"
)

const sarifPolicy = `{"schema_version": 1, "profile": "myapp", "os": "linux", "app_version": "1.0", "level": "hash",
 "rules": [
  {"criterion": "hash", "value": "ABC", "platform": "linux", "role": "executable", "files": ["/opt/app/bin/svc"]},

  {"criterion": "path", "value": "/usr", "platform": "linux", "role": "cache", "match": "subfolders", "files": ["/usr"]}, {"criterion": "signer", "value": "", "platform": "linux", "role": "executable", "files": []}
 ]}
`

// TestCheckSARIF parses the SARIF output as JSON and checks the fields code-scanning tools
// read: version and $schema, the driver with one rule per finding id, and per result the
// ruleId (one of the driver's rules, at ruleIndex), level, message and locations.
func TestCheckSARIF(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "my policy.json")
	require.NoError(t, os.WriteFile(file, []byte(sarifPolicy), 0o644))
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check", "--format", "sarif", file}, nil, &out, &errb)
	require.Equal(t, exitAttention, code, errb.String())
	require.Empty(t, errb.String())

	var doc map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
	assert.Equal(t, "2.1.0", doc["version"])
	assert.Equal(t, "https://json.schemastore.org/sarif-2.1.0.json", doc["$schema"])
	runs := doc["runs"].([]any)
	require.Len(t, runs, 1)
	run0 := runs[0].(map[string]any)
	driver := run0["tool"].(map[string]any)["driver"].(map[string]any)
	assert.Equal(t, "edrpolicy", driver["name"])
	assert.Equal(t, "https://github.com/edrpolicy/edrpolicy", driver["informationUri"])
	var ids []string
	for _, r := range driver["rules"].([]any) {
		rule := r.(map[string]any)
		ids = append(ids, rule["id"].(string))
		assert.NotEmpty(t, rule["shortDescription"].(map[string]any)["text"])
	}
	var want []string
	for _, r := range check.FindingRules() {
		want = append(want, r.ID)
	}
	assert.Equal(t, want, ids)

	type got struct {
		id, level string
		line      float64
		logical   string
	}
	var results []got
	for _, r := range run0["results"].([]any) {
		res := r.(map[string]any)
		id := res["ruleId"].(string)
		assert.Equal(t, id, ids[int(res["ruleIndex"].(float64))])
		assert.NotEmpty(t, res["message"].(map[string]any)["text"])
		locs := res["locations"].([]any)
		require.Len(t, locs, 1)
		loc := locs[0].(map[string]any)
		phys := loc["physicalLocation"].(map[string]any)
		assert.Equal(t, "file://"+filepath.ToSlash(dir)+"/my%20policy.json", phys["artifactLocation"].(map[string]any)["uri"])
		g := got{id: id, level: res["level"].(string)}
		if region, ok := phys["region"].(map[string]any); ok {
			g.line = region["startLine"].(float64)
		}
		if ll, ok := loc["logicalLocations"].([]any); ok {
			g.logical = ll[0].(map[string]any)["fullyQualifiedName"].(string)
		}
		results = append(results, g)
	}
	assert.Equal(t, []got{
		{"EDR005", "error", 3, "rules[0]"},
		{"EDR007", "error", 5, "rules[2]"},
		{"EDR009", "error", 5, "rules[1]"},
		{"EDR016", "warning", 5, "rules[2]"},
	}, results)
}

func TestRuleLines(t *testing.T) {
	assert.Equal(t, []int{3, 5, 5}, ruleLines([]byte(sarifPolicy)))
	assert.Equal(t, []int{1, 1}, ruleLines([]byte(`{"rules":[{},{"files":["x"]}],"warnings":[]}`)))
	// "rules" nested deeper is not the policy's rules.
	assert.Equal(t, []int{4}, ruleLines([]byte("{\"summary\": {\"rules\": 2},\n \"warnings\": [{\"rules\": [{}]}],\n \"rules\": [\n  {\"value\": \"{\"}]}")))
	assert.Nil(t, ruleLines([]byte("not json")))
	assert.Nil(t, ruleLines(nil))
	// A policy written by generate: one rule object per "    {" line.
	pol := &edrpolicy.Policy{SchemaVersion: 1, Rules: []edrpolicy.Rule{{Criterion: "hash", Files: []string{"a", "b"}}, {Criterion: "path"}}}
	data, err := pol.JSON()
	require.NoError(t, err)
	var want []int
	for i, line := range bytes.Split(data, []byte("\n")) {
		if string(line) == "    {" {
			want = append(want, i+1)
		}
	}
	assert.Equal(t, want, ruleLines(data))
}

func TestFileURI(t *testing.T) {
	assert.Equal(t, "policy.json", fileURI("policy.json"))
	assert.Equal(t, "out/my%20policy.json", fileURI("out/my policy.json"))
	assert.Equal(t, "file:///tmp/p%23.json", fileURI("/tmp/p#.json"))
}
