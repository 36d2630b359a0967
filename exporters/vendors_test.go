package exporters_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/exporters"
)

func TestParseVendors(t *testing.T) {
	reg := exporters.Default()
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{[]string{"defender"}, []string{"defender"}},
		{[]string{"Defender,CrowdStrike"}, []string{"defender", "crowdstrike"}},
		{[]string{"sentinelone", " DEFENDER , sentinelone"}, []string{"sentinelone", "defender"}},
		{[]string{"crowdstrike", "crowdstrike"}, []string{"crowdstrike"}},
		{nil, nil},
	} {
		got, err := exporters.ParseVendors(reg, tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range [][]string{{"bogus"}, {"defender,"}, {",defender"}, {""}, {"defender,,crowdstrike"}, {"sentinel one"}} {
		_, err := exporters.ParseVendors(reg, bad)
		assert.Error(t, err, bad)
	}
	_, err := exporters.ParseVendors(reg, []string{"defender,falcon"})
	assert.EqualError(t, err, `"defender,falcon": unknown vendor "falcon"; want crowdstrike, defender, sentinelone`)
}
