package exporters

import (
	"fmt"
	"strings"
)

// ParseVendors turns vendor lists as a user types them into registered vendor names: each
// value may hold several names separated by commas ("defender,crowdstrike"), names are
// matched case-insensitively, surrounding spaces are ignored, and a name given twice counts
// once (first position kept). An empty name or one the registry does not know is an error
// quoting the value and naming the known vendors.
func ParseVendors(reg *Registry, values []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			name := strings.ToLower(strings.TrimSpace(part))
			if name == "" {
				return nil, fmt.Errorf("%q: an empty vendor name; want %s", v, strings.Join(reg.Names(), ", "))
			}
			if _, ok := reg.Lookup(name); !ok {
				return nil, fmt.Errorf("%q: unknown vendor %q; want %s", v, part, strings.Join(reg.Names(), ", "))
			}
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out, nil
}
