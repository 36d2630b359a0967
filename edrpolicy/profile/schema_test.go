package profile

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strings"
	"testing"

	// santhosh-tekuri/jsonschema (test only) is an independent draft 2020-12 validator: the
	// schema is checked by a tool that is not our loader.
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const schemaURL = "file:///profile.schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(schemaURL, doc))
	sch, err := c.Compile(schemaURL)
	require.NoError(t, err)
	return sch
}

func validateDoc(t *testing.T, sch *jsonschema.Schema, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	return sch.Validate(inst)
}

// Every built-in profile passes the schema, and references it with "$schema".
func TestSchemaValidatesBuiltIns(t *testing.T) {
	sch := compileSchema(t)
	names, err := fs.Glob(builtinFS, "builtin/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, n := range names {
		data, err := builtinFS.ReadFile(n)
		require.NoError(t, err)
		assert.NoError(t, validateDoc(t, sch, data), n)
		var head struct {
			Schema string `json:"$schema"`
		}
		require.NoError(t, json.Unmarshal(data, &head))
		assert.Equal(t, "../schema/profile.schema.json", head.Schema, n)
		assert.Equal(t, "schema/profile.schema.json", path.Clean(path.Join(path.Dir(n), head.Schema)), n)
	}
}

// The schema and the loader reject the same faults.
func TestSchemaAndLoaderAgree(t *testing.T) {
	sch := compileSchema(t)
	base := `{"schema_version":1,"name":"x","title":"X","sources":[{"id":"s","title":"t","ref":"r","confidence":"vendor-doc"}],"paths":[ROWS]PORTS}`
	row := `{"os":"linux","use":"u","role":"cache","path":"/opt/x/c","kind":"folder","rule":"scan-exclusion","source":"s","confidence":"vendor-doc"}`
	doc := func(rows []string, ports string) []byte {
		return []byte(strings.Replace(strings.Replace(base, "ROWS", strings.Join(rows, ","), 1), "PORTS", ports, 1))
	}
	four := []string{row, row, row, row}
	ok := doc(four, `,"ports":[{"port":443,"component":"app","status":"required","alternatives":[4287],"source":"s","confidence":"vendor-doc"},{"component":"server","status":"unknown","source":"s","confidence":"inferred"}]`)
	assert.NoError(t, validateDoc(t, sch, ok))
	_, err := Parse(ok)
	assert.NoError(t, err)
	for name, tc := range map[string]struct {
		i        int
		from, to string
		ports    string
	}{
		"unknown key row 3":     {3, `"path":`, `"pth":`, ""},
		"unknown key row 1":     {1, `"os":"linux"`, `"os":"linux","colour":"red"`, ""},
		"confidence":            {2, `"confidence":"vendor-doc"`, `"confidence":"guess"`, ""},
		"executable folder":     {0, `"role":"cache"`, `"role":"executable"`, ""},
		"range":                 {3, `"os":"linux"`, `"os":"linux","versions":"8.x"`, ""},
		"os":                    {3, `"os":"linux"`, `"os":"beos"`, ""},
		"dotdot":                {1, `/opt/x/c`, `/opt/../c`, ""},
		"type":                  {2, `"kind":"folder"`, `"kind":true`, ""},
		"missing source":        {0, `"source":"s",`, ``, ""},
		"unknown port has port": {0, "", "", `,"ports":[{"port":1,"component":"app","status":"unknown","source":"s","confidence":"vendor-doc"}]`},
		"port out of range":     {0, "", "", `,"ports":[{"port":70000,"component":"app","status":"required","source":"s","confidence":"vendor-doc"}]`},
		"thumbprint":            {0, "", "", `,"signers":[{"os":"mac","thumbprints":["abcd"],"source":"s","confidence":"observed"}]`},
		"signer without id":     {0, "", "", `,"signers":[{"os":"mac","source":"s","confidence":"observed"}]`},
		"advice without quote":  {0, "", "", `,"advice":[{"topic":"exceptions","source":"s","confidence":"vendor-doc"}]`},
	} {
		rows := append([]string(nil), four...)
		if tc.from != "" {
			rows[tc.i] = strings.Replace(rows[tc.i], tc.from, tc.to, 1)
		}
		data := doc(rows, tc.ports)
		assert.Error(t, validateDoc(t, sch, data), "schema accepted: %s", name)
		_, err := Parse(data)
		assert.Error(t, err, "loader accepted: %s", name)
	}
}

// The schema lists exactly the keys the Go types decode, so that neither drifts.
func TestSchemaMatchesTypes(t *testing.T) {
	var doc map[string]any
	require.NoError(t, json.Unmarshal(Schema(), &doc))
	defs := doc["$defs"].(map[string]any)
	keysOf := func(def map[string]any) []string {
		var out []string
		for k := range def["properties"].(map[string]any) {
			out = append(out, k)
		}
		if ref, _ := def["$ref"].(string); ref != "" {
			parent := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			if _, ok := parent["properties"]; !ok {
				parent = defs[strings.TrimPrefix(parent["$ref"].(string), "#/$defs/")].(map[string]any)
			}
			for k := range parent["properties"].(map[string]any) {
				out = append(out, k)
			}
		}
		sort.Strings(out)
		return out
	}
	goKeys := func(v any) []string {
		return knownKeys(jsonFields(reflect.TypeOf(v)))
	}
	assert.Equal(t, goKeys(Profile{}), keysOf(doc))
	for def, v := range map[string]any{
		"source": Source{}, "product": Product{}, "era": Era{}, "path": PathRow{}, "port": PortRow{},
		"signer": ExpectedSigner{}, "version_source": VersionSource{}, "script": ScriptRow{}, "note": Note{},
		"fact": Fact{}, "advice": Advice{}, "unknown": Unknown{},
	} {
		assert.Equal(t, goKeys(v), keysOf(defs[def].(map[string]any)), def)
	}
}
