package profile

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// validator collects the errors of one profile; each names the row and key ("paths[3].role").
type validator struct {
	p     *Profile
	errs  []error
	srcs  map[string]bool
	prods map[string]bool
	eras  map[string]bool
}

func (v *validator) add(where, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

// Validate checks the profile's consistency: known enumerations, parseable version ranges,
// citations of declared sources, products and eras that exist. Every error names the row and
// key at fault ("paths[3].versions: ...").
func (p *Profile) Validate() error {
	v := &validator{p: p, srcs: map[string]bool{}, prods: map[string]bool{}, eras: map[string]bool{}}
	if p.SchemaVersion != SchemaVersion {
		v.add("schema_version", "%d: this edrpolicy reads schema_version %d", p.SchemaVersion, SchemaVersion)
	}
	if p.Name == "" || strings.ContainsAny(p.Name, " /\\") {
		v.add("name", "%q: want a short name without spaces or slashes", p.Name)
	}
	for i, s := range p.Sources {
		w := fmt.Sprintf("sources[%d]", i)
		if s.ID == "" {
			v.add(w+".id", "required")
		}
		if s.Ref == "" {
			v.add(w+".ref", "required (a file name, URL or article number)")
		}
		if v.srcs[s.ID] {
			v.add(w+".id", "duplicate id %q", s.ID)
		}
		v.srcs[s.ID] = true
		v.confidence(w, s.Confidence)
	}
	v.products()
	v.eraRows()
	for i, r := range p.Paths {
		v.pathRow(fmt.Sprintf("paths[%d]", i), r)
	}
	for i, r := range p.Ports {
		v.portRow(fmt.Sprintf("ports[%d]", i), r)
	}
	v.signers()
	v.misc()
	v.unknowns()
	return errors.Join(v.errs...)
}

func (v *validator) confidence(where string, c Confidence) {
	if !c.Valid() {
		names := make([]string, len(confidences))
		for i, k := range confidences {
			names[i] = string(k)
		}
		v.add(where+".confidence", "%q: want %s", c, strings.Join(names, ", "))
	}
}

func (v *validator) cite(where string, c Cite) {
	if c.Source == "" {
		v.add(where+".source", "required (cite the document the row comes from)")
	}
	for _, id := range splitList(c.Source) {
		if !v.srcs[id] {
			v.add(where+".source", "%q is not declared in sources", id)
		}
	}
	v.confidence(where, c.Confidence)
}

func (v *validator) rng(where string, r Range) {
	if err := r.Validate(); err != nil {
		v.add(where, "%v", err)
	}
}

func (v *validator) os(where string, os OS, optional bool) {
	if os == "" && optional {
		return
	}
	if !os.Valid() {
		v.add(where+".os", "%q: %v", os, ErrUnknownOS)
	}
}

func (v *validator) productList(where string, list []string) {
	for i, name := range list {
		if !v.prods[name] {
			v.add(fmt.Sprintf("%s.products[%d]", where, i), "%q is not a declared product", name)
		}
	}
}

func (v *validator) products() {
	for i, pr := range v.p.Products {
		w := fmt.Sprintf("products[%d]", i)
		if pr.Name == "" || v.prods[pr.Name] {
			v.add(w+".name", "%q: empty or duplicate", pr.Name)
		}
		v.prods[pr.Name] = true
		v.cite(w, pr.Cite)
	}
	if v.p.DefaultProduct != "" && !v.prods[v.p.DefaultProduct] {
		v.add("default_product", "%q is not a declared product", v.p.DefaultProduct)
	}
}

// eraRows checks eras; two eras may share a name only for disjoint product lists.
func (v *validator) eraRows() {
	seen := map[string][]int{}
	for i, e := range v.p.Eras {
		w := fmt.Sprintf("eras[%d]", i)
		if e.Name == "" {
			v.add(w+".name", "required")
		}
		v.eras[e.Name] = true
		v.rng(w+".versions", e.Versions)
		v.productList(w, e.Products)
		v.cite(w, e.Cite)
		for _, j := range seen[e.Name] {
			o := v.p.Eras[j]
			if len(o.Products) == 0 || len(e.Products) == 0 || overlaps(o.Products, e.Products) {
				v.add(w+".products", "era %q is also eras[%d]: the same name needs disjoint product lists", e.Name, j)
			}
		}
		seen[e.Name] = append(seen[e.Name], i)
	}
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func (v *validator) pathRow(w string, r PathRow) {
	v.os(w, r.OS, false)
	v.rng(w+".versions", r.Versions)
	v.cite(w, r.Cite)
	if !r.Role.Valid() {
		v.add(w+".role", "%q: want executable, cache, logs, identity, config or archive", r.Role)
	}
	switch r.Kind {
	case "folder", "file":
	default:
		v.add(w+".kind", "%q: want folder or file", r.Kind)
	}
	switch r.Rule {
	case RuleNever, RuleScanExclusion, RuleOnRequest:
	default:
		v.add(w+".rule", "%q: want never, scan-exclusion or on-request", r.Rule)
	}
	if r.Role == RoleExecutable && r.Rule != RuleNever {
		v.add(w+".rule", "an executable folder is never a path rule wholesale; rule must be never")
	}
	switch r.Install {
	case "", InstallAllUsers, InstallPerUser, InstallLegacyOS:
	default:
		v.add(w+".install", "%q: want all-users, per-user or legacy-os", r.Install)
	}
	switch r.Component {
	case "", "app", "server":
	default:
		v.add(w+".component", "%q: want app or server", r.Component)
	}
	if r.Path == "" || strings.Contains(r.Path, "..") {
		v.add(w+".path", "%q is empty or contains ..", r.Path)
	}
}

func (v *validator) portRow(w string, r PortRow) {
	switch {
	case r.Status == PortUnknown && r.Port != 0:
		v.add(w+".port", "%d given for a row whose status is unknown (leave the port out)", r.Port)
	case r.Status != PortUnknown && (r.Port <= 0 || r.Port > 65535):
		v.add(w+".port", "%d: want 1 to 65535 (or status unknown when no source gives it)", r.Port)
	}
	if r.Component != "app" && r.Component != "server" {
		v.add(w+".component", "%q: want app or server", r.Component)
	}
	switch r.Status {
	case PortRequired, PortOptional, PortUnsupported, PortUnknown:
	default:
		v.add(w+".status", "%q: want required, optional, unsupported or unknown", r.Status)
	}
	for i, a := range r.Alternatives {
		if a <= 0 || a > 65535 || a == r.Port {
			v.add(fmt.Sprintf("%s.alternatives[%d]", w, i), "%d: want another port, 1 to 65535", a)
		}
	}
	v.rng(w+".versions", r.Versions)
	v.rng(w+".server_versions", r.ServerVersions)
	v.cite(w, r.Cite)
}

func (v *validator) signers() {
	for i, s := range v.p.Signers {
		w := fmt.Sprintf("signers[%d]", i)
		v.os(w, s.OS, false)
		v.rng(w+".versions", s.Versions)
		v.cite(w, s.Cite)
		if s.Era != "" && !v.eras[s.Era] {
			v.add(w+".era", "%q is not declared in eras", s.Era)
		}
		if s.TeamID == "" && s.Organization == "" && s.CommonName == "" && len(s.Thumbprints) == 0 {
			v.add(w, "give team_id, organization, common_name or thumbprints")
		}
		for j, t := range s.Thumbprints {
			if n := len(normHex(t)); !isHex(normHex(t)) || n != 40 && n != 64 {
				v.add(fmt.Sprintf("%s.thumbprints[%d]", w, j), "%q: want a SHA-1 (40) or SHA-256 (64) hex thumbprint", t)
			}
		}
	}
}

func normHex(s string) string {
	return strings.NewReplacer(":", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(s)))
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

func (v *validator) globs(where string, list []string) {
	for i, g := range list {
		if _, err := path.Match(g, ""); err != nil {
			v.add(fmt.Sprintf("%s[%d]", where, i), "glob %q: %v", g, err)
		}
	}
}

// misc checks version sources, scripts, notes, facts and advice.
func (v *validator) misc() {
	for i, s := range v.p.VersionSources {
		w := fmt.Sprintf("version_sources[%d]", i)
		v.os(w, s.OS, false)
		v.cite(w, s.Cite)
		switch s.Kind {
		case "pe", "plist", "file":
		default:
			v.add(w+".kind", "%q: want pe, plist or file", s.Kind)
		}
		v.globs(w+".files", s.Files)
	}
	for i, s := range v.p.Scripts {
		w := fmt.Sprintf("scripts[%d]", i)
		v.os(w, s.OS, false)
		v.cite(w, s.Cite)
		v.globs(w+".files", s.Files)
	}
	for i, n := range v.p.Notes {
		w := fmt.Sprintf("notes[%d]", i)
		v.os(w, n.OS, true)
		v.rng(w+".versions", n.Versions)
		v.cite(w, n.Cite)
	}
	for i, f := range v.p.Facts {
		w := fmt.Sprintf("facts[%d]", i)
		v.os(w, f.OS, true)
		v.rng(w+".versions", f.Versions)
		v.cite(w, f.Cite)
	}
	for i, a := range v.p.Advice {
		w := fmt.Sprintf("advice[%d]", i)
		if a.Topic == "" {
			v.add(w+".topic", "required (exceptions, hash, signer, backup-selection or a word of yours)")
		}
		if strings.TrimSpace(a.Quote) == "" {
			v.add(w+".quote", "required: the source's own sentence")
		}
		v.productList(w, a.Products)
		v.cite(w, a.Cite)
	}
}

func (v *validator) unknowns() {
	for i, u := range v.p.Unknowns {
		w := fmt.Sprintf("unknowns[%d]", i)
		v.os(w, u.OS, true)
		v.rng(w+".versions", u.Versions)
		v.productList(w, u.Products)
		if u.Message == "" {
			v.add(w+".message", "required (say what is missing)")
		}
		if u.Flag == "" {
			v.add(w+".flag", "required (say how to supply it)")
		}
		for j, c := range u.Candidates {
			if _, err := ParseVersion(c); err != nil {
				v.add(fmt.Sprintf("%s.candidates[%d]", w, j), "%v", err)
			}
		}
		if u.Source != "" {
			v.cite(w, u.Cite)
		}
	}
}
