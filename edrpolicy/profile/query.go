package profile

import (
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/internal/safetext"
)

// Install selections for PathQuery.Install besides the row kinds.
const (
	// InstallAny selects rows of every install kind (for listing the whole table).
	InstallAny = "any"
)

// PathQuery selects rows of a profile's path table.
type PathQuery struct {
	OS OS
	// Version selects rows whose range contains it; the zero Version selects every row.
	Version Version
	// AssumePaths, when Version falls into a documented gap ("paths" unknown), selects the
	// table of this version instead; it must be one of the gap's candidates.
	AssumePaths Version
	// Install is all-users (the default when empty), per-user, legacy-os or any.
	Install string
	// Component is app (the default when empty), server or any.
	Component string
	// Product is the profile's product (empty: its default product). Gaps limited to other
	// products do not concern the query.
	Product string
	// OwnInstallPaths says that the caller maps the install folders itself (--install-path):
	// a gap in the path table that offers no candidate table does not block the query; it is
	// returned in Table.Bridged and the table has no rows, since no source gives them.
	OwnInstallPaths bool
}

// Table is the result of a path query.
type Table struct {
	Rows []PathRow
	// Gaps are the unknowns that concern the query but do not block it (informational).
	Gaps []Unknown
	// Assumed is set when AssumePaths replaced the version: the gap it bridged.
	Assumed *Unknown
	// Bridged is set when OwnInstallPaths let the query through a gap without candidates:
	// the table is empty and Bridged says what is unknown.
	Bridged *Unknown
}

// UnknownError says that a fact the caller asked for is not in any source. It names the gap,
// the candidate tables and the flag that supplies the fact.
type UnknownError struct {
	Profile string
	// Product is set when the gap concerns only some products.
	Product string
	OS      OS
	Version Version
	Gap     Unknown
	// Candidates hold, per candidate version, the rows of its table that differ between the
	// candidates.
	Candidates map[string][]PathRow
}

func (e *UnknownError) Error() string {
	e = e.escaped()
	var b strings.Builder
	fmt.Fprintf(&b, "profile %s", e.Profile)
	if e.Product != "" {
		fmt.Fprintf(&b, ", product %s", e.Product)
	}
	if e.OS != "" {
		fmt.Fprintf(&b, ", %s", e.OS)
	}
	if !e.Version.IsZero() {
		fmt.Fprintf(&b, ", version %s", e.Version)
	}
	fmt.Fprintf(&b, ": unknown: %s", e.Gap.Message)
	for _, c := range e.Gap.Candidates {
		fmt.Fprintf(&b, "\n  candidate table %s:", c)
		for _, r := range e.Candidates[c] {
			fmt.Fprintf(&b, "\n    %-45s %s", r.Use, r.Path)
		}
	}
	if len(e.Gap.Candidates) > 0 {
		flags := append([]string(nil), e.Gap.Candidates...)
		fmt.Fprintf(&b, "\nchoose one with %s %s, or give the exact version", e.Gap.Flag, strings.Join(flags, "|"))
	} else {
		fmt.Fprintf(&b, "\nsupply it with %s", e.Gap.Flag)
	}
	return b.String()
}

// escaped is a copy of e whose words and paths (from a profile, which may be a file anyone
// wrote) are escaped with safetext.Escape, so that Error's lines cannot be rewritten or
// multiplied by a crafted path.
func (e *UnknownError) escaped() *UnknownError {
	q := safetext.Escape
	c := *e
	c.Profile, c.OS = q(e.Profile), OS(q(string(e.OS)))
	c.Gap.Message, c.Gap.Flag = q(e.Gap.Message), q(e.Gap.Flag)
	c.Gap.Candidates = make([]string, len(e.Gap.Candidates))
	c.Candidates = make(map[string][]PathRow, len(e.Candidates))
	for i, v := range e.Gap.Candidates {
		c.Gap.Candidates[i] = q(v)
		rows := make([]PathRow, len(e.Candidates[v]))
		for k, r := range e.Candidates[v] {
			r.Use, r.Path = q(r.Use), q(r.Path)
			rows[k] = r
		}
		c.Candidates[q(v)] = rows
	}
	return &c
}

func matchOS(rowOS, q OS) bool { return rowOS == "" || q == "" || rowOS == q }

func inRange(r Range, v Version) bool { return v.IsZero() || r.Contains(v) }

func installOf(s string) string {
	if s == "" {
		return InstallAllUsers
	}
	return s
}

func componentOf(s string) string {
	if s == "" {
		return "app"
	}
	return s
}

// PathTable returns the rows of the path table that match q, or an *UnknownError when the query
// falls into a gap no source fills.
func (p *Profile) PathTable(q PathQuery) (*Table, error) {
	inst := installOf(q.Install)
	comp := componentOf(q.Component)
	v := q.Version
	t := &Table{}
	prod := p.productName(q.Product)
	for i := range p.Unknowns {
		u := p.Unknowns[i]
		if !matchOS(u.OS, q.OS) || !forProduct(u.Products, prod) {
			continue
		}
		if !u.Versions.All() && (v.IsZero() || !u.Versions.Contains(v)) {
			continue
		}
		if u.Install != "" && inst != InstallAny && u.Install != inst {
			continue
		}
		if u.What != "paths" || u.Install != "" && u.Install != inst {
			t.Gaps = append(t.Gaps, u) // informational
			continue
		}
		// A blocking gap.
		if len(u.Candidates) == 0 && q.OwnInstallPaths {
			uu := u
			t.Bridged = &uu
			t.Gaps = append(t.Gaps, u)
			continue
		}
		if !q.AssumePaths.IsZero() && len(u.Candidates) > 0 {
			ok := false
			for _, c := range u.Candidates {
				// Candidates are validated when a profile is loaded; one that does not parse
				// (a profile built by hand) names no table.
				if cv, err := ParseVersion(c); err == nil && cv.Compare(q.AssumePaths) == 0 {
					ok = true
				}
			}
			if !ok {
				return nil, fmt.Errorf("profile %s: %s %s is not a candidate for version %s: use one of %s",
					p.Name, u.Flag, q.AssumePaths, v, strings.Join(u.Candidates, ", "))
			}
			uu := u
			t.Assumed = &uu
			v = q.AssumePaths
			continue
		}
		return nil, p.unknownError(q, u)
	}
	if t.Bridged != nil {
		return t, nil
	}
	for _, r := range p.Paths {
		if r.OS != q.OS && q.OS != "" {
			continue
		}
		if inst != InstallAny && installOf(r.Install) != inst {
			continue
		}
		if comp != "any" && componentOf(r.Component) != comp {
			continue
		}
		if !inRange(r.Versions, v) {
			continue
		}
		t.Rows = append(t.Rows, r)
	}
	return t, nil
}

func (p *Profile) unknownError(q PathQuery, u Unknown) error {
	e := &UnknownError{Profile: p.Name, OS: q.OS, Version: q.Version, Gap: u, Candidates: map[string][]PathRow{}}
	if len(u.Products) > 0 {
		e.Product = p.productName(q.Product)
	}
	tables := map[string][]PathRow{}
	for _, c := range u.Candidates {
		cv, err := ParseVersion(c)
		if err != nil {
			continue // validated when loaded; a profile built by hand may hold anything
		}
		cq := q
		cq.Version, cq.AssumePaths = cv, Version{}
		t, err := p.PathTable(cq)
		if err == nil {
			tables[c] = t.Rows
		}
	}
	// Keep only the rows that differ between candidates.
	count := map[string]int{}
	for _, rows := range tables {
		for _, r := range rows {
			count[r.Use+"\x00"+r.Path]++
		}
	}
	for c, rows := range tables {
		for _, r := range rows {
			if count[r.Use+"\x00"+r.Path] < len(tables) {
				e.Candidates[c] = append(e.Candidates[c], r)
			}
		}
	}
	return e
}

// PortQuery selects ports.
type PortQuery struct {
	// Version is the app's version: rows whose Versions condition excludes it are dropped;
	// the zero Version keeps every row.
	Version Version
	// ServerVersion is the server's version: rows whose ServerVersions condition excludes it
	// are dropped; the zero Version keeps every row.
	ServerVersion Version
	// Component is app, server, or empty for both.
	Component string
}

// PortsFor returns the port rows that apply.
func (p *Profile) PortsFor(q PortQuery) []PortRow {
	var out []PortRow
	for _, r := range p.Ports {
		if q.Component != "" && r.Component != q.Component {
			continue
		}
		if !inRange(r.Versions, q.Version) || !inRange(r.ServerVersions, q.ServerVersion) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// NotesFor returns the notes whose condition holds for os and v (a zero v matches only notes
// without a condition).
func (p *Profile) NotesFor(os OS, v Version) []Note {
	var out []Note
	for _, n := range p.Notes {
		if !matchOS(n.OS, os) {
			continue
		}
		if n.Versions.All() || !v.IsZero() && n.Versions.Contains(v) {
			out = append(out, n)
		}
	}
	return out
}

// productName resolves the empty product name to the profile's default product.
func (p *Profile) productName(name string) string {
	if name == "" {
		return p.DefaultProduct
	}
	return name
}

// forProduct reports whether a row limited to products (empty: every product) concerns prod.
// A query without a product (a profile without products) is concerned by every row.
func forProduct(products []string, prod string) bool {
	if len(products) == 0 || prod == "" {
		return true
	}
	for _, x := range products {
		if x == prod {
			return true
		}
	}
	return false
}

// EraFor returns the era of the default product that contains v, or nil (no era, or v in a
// gap between eras). See EraOf.
func (p *Profile) EraFor(v Version) *Era { return p.EraOf("", v) }

// EraOf returns the era of product (empty: the default product) that contains v, or nil when
// no source gives one (v between eras, or outside every era of the product line).
func (p *Profile) EraOf(product string, v Version) *Era {
	if v.IsZero() {
		return nil
	}
	prod := p.productName(product)
	for i := range p.Eras {
		e := &p.Eras[i]
		if forProduct(e.Products, prod) && e.Versions.Contains(v) {
			return e
		}
	}
	return nil
}

// ErasOf returns the eras that hold for product (empty: the default product).
func (p *Profile) ErasOf(product string) []Era {
	prod := p.productName(product)
	var out []Era
	for _, e := range p.Eras {
		if forProduct(e.Products, prod) {
			out = append(out, e)
		}
	}
	return out
}

// ExpectedSigners returns the expected signers of the default product for os and v. See
// SignersFor.
func (p *Profile) ExpectedSigners(os OS, v Version) []ExpectedSigner {
	return p.SignersFor(os, "", v)
}

// SignersFor returns the expected signers for os, product (empty: the default product) and
// v: rows whose version condition holds and whose era, when they name one, is the product's
// era at v. With the zero v, rows that name an era do not apply (the era is not known).
func (p *Profile) SignersFor(os OS, product string, v Version) []ExpectedSigner {
	era := p.EraOf(product, v)
	var out []ExpectedSigner
	for _, s := range p.Signers {
		if s.OS != os || !inRange(s.Versions, v) {
			continue
		}
		if s.Era != "" && (era == nil || era.Name != s.Era) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// UnknownsFor returns the unknowns of the given kind ("signer", "version-file", ...) that
// concern os and v for the default product. See UnknownsOf.
func (p *Profile) UnknownsFor(what string, os OS, v Version) []Unknown {
	return p.UnknownsOf(what, os, "", v)
}

// UnknownsOf returns the unknowns of the given kind that concern os, product (empty: the
// default product) and v.
func (p *Profile) UnknownsOf(what string, os OS, product string, v Version) []Unknown {
	prod := p.productName(product)
	var out []Unknown
	for _, u := range p.Unknowns {
		if u.What == what && matchOS(u.OS, os) && forProduct(u.Products, prod) && (u.Versions.All() || !v.IsZero() && u.Versions.Contains(v)) {
			out = append(out, u)
		}
	}
	return out
}

// AdviceFor returns the advice on topic (empty: every topic), in profile order.
func (p *Profile) AdviceFor(topic string) []Advice {
	var out []Advice
	for _, a := range p.Advice {
		if topic == "" || a.Topic == topic {
			out = append(out, a)
		}
	}
	return out
}

// ScriptGlobs returns the script globs for os.
func (p *Profile) ScriptGlobs(os OS) []string {
	var out []string
	for _, s := range p.Scripts {
		if s.OS == os {
			out = append(out, s.Files...)
		}
	}
	return out
}
