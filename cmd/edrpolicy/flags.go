package main

import (
	"errors"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/output"
)

// optionFlags maps the options the library names in its errors (edrpolicy.OptionError.Field:
// the field of DecideOptions, GenerateOptions, CheckOptions, the exporters' and vendors'
// options, fleet.Options, ...) to the flags that set them. The library speaks of fields, since
// its messages are also read by programs and in vendor consoles; the CLI speaks of flags.
var optionFlags = map[string]string{
	"Profile":                  "--profile",
	"Out":                      "--out",
	"OS":                       "--os",
	"Level":                    "--level",
	"Install":                  "--install",
	"Product":                  "--product",
	"Version":                  "--app-version",
	"AppVersion":               "--app-version",
	"Versions":                 "--app-version",
	"AssumePaths":              "--assume-paths",
	"Governance.Expires":       "--expires",
	"Governance.MaxAge":        "--max-age",
	"KeepPrevious":             "--keep-previous",
	"Previous":                 "--previous",
	"Roots":                    "--root",
	"Root":                     "--root",
	"Name":                     "--name",
	"InstallPaths":             "--install-path",
	"InstallPath":              "--install-path",
	"MinHosts":                 "--min-hosts",
	"MinShare":                 "--min-share",
	"Formats":                  "--format",
	"Expiration":               "--expiration",
	"CrowdStrike.Action":       "--cs-action",
	"CrowdStrike.ExcludedFrom": "--ml-excluded-from",
	"CrowdStrike.HostGroups":   "--host-group",
	"SentinelOne.Mode":         "--s1-mode",
	"SentinelOne.Tenant":       "--s1-tenant",
	"SentinelOne.AccountIDs":   "--s1-account-id",
	"SentinelOne.SiteIDs":      "--s1-site-id",
	"SentinelOne.GroupIDs":     "--s1-group-id",
	"Defender.MergePolicy":     "--merge-policy",
	"Defender.MergeWith":       "--defender-merge",
}

// osValue binds an --os flag to a profile.OS: the string is converted once, when the flag is
// parsed; the library (or the command) refuses an unknown OS with a message naming the value.
type osValue profile.OS

// String returns the value as given.
func (v *osValue) String() string { return string(*v) }

// Set stores s as given.
func (v *osValue) Set(s string) error {
	*v = osValue(s)
	return nil
}

// Type is what help shows for the flag's argument, as for a string flag.
func (v *osValue) Type() string { return "string" }

// flagged returns s (the message of err or of one of the errors it wraps) with each
// *edrpolicy.OptionError in err's tree named by its flag instead of its field.
func flagged(err error, s string) string {
	for _, oe := range edrpolicy.OptionErrors(err) {
		if f, ok := optionFlags[oe.Field]; ok {
			s = strings.ReplaceAll(s, oe.Error(), oe.Named(f))
		}
	}
	return s
}

// checkOutDir is output.CheckDir with its refusal as an option error for the field Out, so
// that the message names --out as every other option error names its flag.
func checkOutDir(dir, previous string) error {
	err := output.CheckDir(dir, previous)
	var re *output.RefusedError
	if errors.As(err, &re) {
		return &edrpolicy.OptionError{Field: "Out", Value: re.Dir, Reason: re.Reason, Err: err}
	}
	return err
}
