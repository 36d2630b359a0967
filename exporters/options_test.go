package exporters_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/crowdstrike"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// Each vendor says which digests it writes, as configured: a library user asks the
// exporters before inspecting instead of knowing each vendor's hash types.
func TestDigestsFor(t *testing.T) {
	for name, c := range map[string]struct {
		vendors []string
		v       exporters.Vendors
		want    hashing.Algorithms
	}{
		"defender default":       {[]string{"defender"}, exporters.Vendors{}, hashing.Algorithms{}},
		"defender sha1":          {[]string{"defender"}, exporters.Vendors{Defender: defender.Options{SHA1: true}}, hashing.Algorithms{SHA1: true}},
		"sentinelone":            {[]string{"sentinelone"}, exporters.Vendors{}, hashing.Algorithms{SHA1: true}},
		"crowdstrike default":    {[]string{"crowdstrike"}, exporters.Vendors{}, hashing.Algorithms{}},
		"crowdstrike md5":        {[]string{"crowdstrike"}, exporters.Vendors{CrowdStrike: crowdstrike.Options{MD5: true}}, hashing.Algorithms{MD5: true}},
		"md5 and sha1":           {[]string{"crowdstrike", "defender"}, exporters.Vendors{CrowdStrike: crowdstrike.Options{MD5: true}, Defender: defender.Options{SHA1: true}}, hashing.Algorithms{SHA1: true, MD5: true}},
		"options of others":      {[]string{"defender"}, exporters.Vendors{CrowdStrike: crowdstrike.Options{MD5: true}}, hashing.Algorithms{}},
		"no vendors":             {nil, exporters.Vendors{CrowdStrike: crowdstrike.Options{MD5: true}}, hashing.Algorithms{}},
		"all three, md5 for cs":  {[]string{"crowdstrike", "sentinelone", "defender"}, exporters.Vendors{CrowdStrike: crowdstrike.Options{MD5: true}}, hashing.Algorithms{SHA1: true, MD5: true}},
		"sentinelone, no config": {[]string{"sentinelone", "defender"}, exporters.Vendors{}, hashing.Algorithms{SHA1: true}},
	} {
		t.Run(name, func(t *testing.T) {
			reg, err := exporters.Configured(c.v)
			require.NoError(t, err)
			got, err := exporters.DigestsFor(reg, c.vendors)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
	_, err := exporters.DigestsFor(exporters.Default(), []string{"carbonblack"})
	assert.ErrorContains(t, err, `vendor "carbonblack": unknown`)
}

// optionFields lists the Field of every *edrpolicy.OptionError in err's tree.
func optionFields(err error) []string {
	var out []string
	for _, oe := range edrpolicy.OptionErrors(err) {
		out = append(out, oe.Field)
	}
	return out
}

// Configured checks every vendor's options, whichever vendors are exported later, and names
// each fault by its field.
func TestConfiguredValidates(t *testing.T) {
	for name, c := range map[string]struct {
		v      exporters.Vendors
		fields []string
	}{
		"defaults":       {exporters.Vendors{}, nil},
		"all valid":      {exporters.Vendors{CrowdStrike: crowdstrike.Options{Action: "no_action", HostGroups: []string{"0123456789abcdef0123456789ABCDEF"}, ExcludedFrom: []string{"extraction"}}, SentinelOne: sentinelone.Options{SiteIDs: []string{"42"}, Mode: "disable_all_monitors"}, Defender: defender.Options{MergePolicy: "admin_only"}}, nil},
		"cs action":      {exporters.Vendors{CrowdStrike: crowdstrike.Options{Action: "block"}}, []string{"CrowdStrike.Action"}},
		"cs host group":  {exporters.Vendors{CrowdStrike: crowdstrike.Options{HostGroups: []string{"all"}}}, []string{"CrowdStrike.HostGroups"}},
		"cs excluded":    {exporters.Vendors{CrowdStrike: crowdstrike.Options{ExcludedFrom: []string{"scanning"}}}, []string{"CrowdStrike.ExcludedFrom"}},
		"s1 mode":        {exporters.Vendors{SentinelOne: sentinelone.Options{Mode: "ignore"}}, []string{"SentinelOne.Mode"}},
		"s1 ids":         {exporters.Vendors{SentinelOne: sentinelone.Options{SiteIDs: []string{"x"}, GroupIDs: []string{""}}}, []string{"SentinelOne.SiteIDs", "SentinelOne.GroupIDs"}},
		"s1 tenant+ids":  {exporters.Vendors{SentinelOne: sentinelone.Options{Tenant: true, AccountIDs: []string{"1"}}}, []string{"SentinelOne.Tenant"}},
		"defender merge": {exporters.Vendors{Defender: defender.Options{MergePolicy: "replace"}}, []string{"Defender.MergePolicy"}},
		"one per vendor": {exporters.Vendors{CrowdStrike: crowdstrike.Options{Action: "block"}, SentinelOne: sentinelone.Options{Mode: "ignore"}, Defender: defender.Options{MergePolicy: "replace"}},
			[]string{"CrowdStrike.Action", "SentinelOne.Mode", "Defender.MergePolicy"}},
	} {
		t.Run(name, func(t *testing.T) {
			reg, err := exporters.Configured(c.v)
			if c.fields == nil {
				require.NoError(t, err)
				assert.Equal(t, []string{"crowdstrike", "defender", "sentinelone"}, reg.Names())
				return
			}
			assert.Nil(t, reg)
			assert.Equal(t, c.fields, optionFields(err))
		})
	}
}

// The registry's exporters carry the options they were made with: the same policy exported
// through two registries differs as the vendors' options say.
func TestConfiguredExportersUseTheirOptions(t *testing.T) {
	plain, err := exporters.Configured(exporters.Vendors{})
	require.NoError(t, err)
	grouped, err := exporters.Configured(exporters.Vendors{Defender: defender.Options{RbacGroups: []string{"Servers"}}})
	require.NoError(t, err)
	a, _, err := exporters.Export(plain, examplePolicy(), []string{"defender"}, exporters.Options{Formats: []string{"csv"}})
	require.NoError(t, err)
	b, _, err := exporters.Export(grouped, examplePolicy(), []string{"defender"}, exporters.Options{Formats: []string{"csv"}})
	require.NoError(t, err)
	assert.NotContains(t, string(a[0].Data), "Servers")
	assert.Contains(t, string(b[0].Data), "Servers")
}

// With gives a new registry with one exporter replaced; the original is unchanged.
func TestRegistryWith(t *testing.T) {
	reg := exporters.Default()
	s1, _ := reg.Lookup("sentinelone")
	scoped, err := reg.With(sentinelone.New(sentinelone.Options{Tenant: true}))
	require.NoError(t, err)
	assert.Equal(t, reg.Names(), scoped.Names())
	same, _ := reg.Lookup("sentinelone")
	assert.Same(t, s1, same, "the original registry keeps its exporter")
	_, _, err = exporters.Export(reg, examplePolicy(), []string{"sentinelone"}, exporters.Options{})
	assert.ErrorIs(t, err, sentinelone.ErrNoScope)
	_, _, err = exporters.Export(scoped, examplePolicy(), []string{"sentinelone"}, exporters.Options{})
	assert.NoError(t, err)

	more, err := reg.With(lineCount{})
	require.NoError(t, err)
	assert.Equal(t, []string{"crowdstrike", "defender", "lines", "sentinelone"}, more.Names())
	_, err = reg.With(badName{})
	assert.Error(t, err)
}

// ValidateOptions checks the shared options: formats and expiration, each fault named by its
// field.
func TestValidateOptions(t *testing.T) {
	for name, c := range map[string]struct {
		o      exporters.Options
		fields []string
	}{
		"zero":            {exporters.Options{}, nil},
		"every format":    {exporters.Options{Formats: []string{"csv", "json", "cer", "ps1", "plist"}}, nil},
		"date":            {exporters.Options{Expiration: "2026-06-30"}, nil},
		"rfc 3339":        {exporters.Options{Expiration: "2026-06-30T12:00:00Z"}, nil},
		"rule":            {exporters.Options{Expiration: "rule"}, nil},
		"unknown format":  {exporters.Options{Formats: []string{"xml"}}, []string{"Formats"}},
		"bad expiration":  {exporters.Options{Expiration: "soon"}, []string{"Expiration"}},
		"both, one each":  {exporters.Options{Formats: []string{"json", "txt"}, Expiration: "30/06/2026"}, []string{"Formats", "Expiration"}},
		"two bad formats": {exporters.Options{Formats: []string{"txt", "xml"}}, []string{"Formats", "Formats"}},
	} {
		t.Run(name, func(t *testing.T) {
			err := exporters.ValidateOptions(c.o)
			if c.fields == nil {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, c.fields, optionFields(err))
		})
	}
}
