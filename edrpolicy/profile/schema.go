package profile

import _ "embed"

//go:embed schema/profile.schema.json
var schemaJSON []byte

// SchemaFile is the file name `edrpolicy profiles schema` suggests for the schema, and that
// starter profiles (Starter) reference in "$schema".
const SchemaFile = "profile.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of profile files, as committed in
// edrpolicy/profile/schema/profile.schema.json. Editors that read "$schema" complete and check
// a profile with it; the loader (Parse) checks more: citations of declared sources, declared
// products and eras, an executable folder never a path rule. Each call returns a new copy.
func Schema() []byte {
	return append([]byte(nil), schemaJSON...)
}
