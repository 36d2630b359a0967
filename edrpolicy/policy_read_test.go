package edrpolicy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParsePolicyErrors: every decoding error names its line and column, and the field when
// encoding/json gives no offset (times and base64 are decoded by methods).
func TestParsePolicyErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"{\n  \"schema_version\": 1,\n  \"rules\": [\n    {\"criterion\": 7}\n  ]\n}", "line 4, column 19: json: cannot unmarshal number into Go struct field Rule.rules.criterion of type edrpolicy.Criterion"},
		{"{\"schema_version\": 1,\n\"rules\": [}", "line 2, column 11: invalid character '}' looking for beginning of value"},
		{`{"schema_version": 1, "x": {"signer": {"not_before": "bad"}}, "rules": [{"signer": {"not_after": "bad too"}}]}`, `line 1, column 98: rules[0].signer.not_after: parsing time "bad too"`},
		{`{"schema_version": 1, "rules": [{}, {"certificate": "!!"}]}`, "line 1, column 53: rules[1].certificate: illegal base64 data at input byte 0"},
		{`{"schema_version": 2, "rules": []}`, "schema_version 2, this edrpolicy reads 1"},
		{``, "line 1, column 1: unexpected end of JSON input"},
	} {
		_, err := ParsePolicy([]byte(tc.doc))
		require.Error(t, err, tc.doc)
		assert.Contains(t, err.Error(), tc.want, tc.doc)
	}
}
