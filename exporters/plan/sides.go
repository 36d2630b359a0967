package plan

import (
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
)

// FromDir reads the entries of an output folder. A vendor file that cannot be read or parsed
// is an error (its entries would all look added or deleted); the folder's other problems (a
// manifest mismatch, an unlisted file) are returned as warnings.
func FromDir(reg *exporters.Registry, dir string) ([]exporters.Entry, []exporters.SetProblem, error) {
	s, err := exporters.ReadSet(reg, dir)
	if err != nil {
		return nil, nil, err
	}
	var warns []exporters.SetProblem
	var fatal []string
	for _, p := range s.Problems {
		switch p.Code {
		case exporters.ProblemParse, exporters.ProblemUnreadable:
			fatal = append(fatal, p.File+": "+p.Message)
		default:
			warns = append(warns, p)
		}
	}
	if len(fatal) > 0 {
		return nil, warns, fmt.Errorf("%s: %s", dir, strings.Join(fatal, "; "))
	}
	return s.Entries(""), warns, nil
}

// FromPolicy exports a policy in memory for the vendors with the exporters of reg (as
// configured) and options o, as generate --vendor or export would, and reads the files back.
// A SentinelOne scope is not needed (scope is not part of an entry): when reg's SentinelOne
// exporter has none, tenant-wide scope is used.
func FromPolicy(reg *exporters.Registry, pol *edrpolicy.Policy, vendors []string, o exporters.Options) ([]exporters.Entry, error) {
	if e, ok := reg.Lookup(sentinelone.Name); ok {
		if s1, ok := e.(*sentinelone.Exporter); ok && !s1.Options().Scoped() {
			so := s1.Options()
			so.Tenant = true
			var err error
			if reg, err = reg.With(sentinelone.New(so)); err != nil {
				return nil, err
			}
		}
	}
	files, _, err := exporters.Export(reg, pol, vendors, o)
	if err != nil {
		return nil, err
	}
	return exporters.ParseFiles(reg, files)
}
