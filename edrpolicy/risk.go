package edrpolicy

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/edrpolicy/edrpolicy/signers"
)

//go:embed riskdata/risky-signers.json
var riskySignersJSON []byte

//go:embed riskdata/interpreters.json
var interpretersJSON []byte

// RiskySigners is a list of signers whose certificate also signs a large part of an operating
// system or of other vendors' software (riskdata/risky-signers.json, embedded; extend it with
// ParseRiskySigners and Add). A signer rule that names one allows all of that.
type RiskySigners struct {
	SchemaVersion int           `json:"schema_version"`
	About         string        `json:"about,omitempty"`
	Signers       []RiskySigner `json:"signers"`
}

// RiskySigner is one entry: the certificate facts it matches on, why it is risky, and the
// sources that say so.
type RiskySigner struct {
	ID      string      `json:"id"`
	Title   string      `json:"title"`
	Match   SignerMatch `json:"match"`
	Reason  string      `json:"reason"`
	Sources []string    `json:"sources"`
}

// SignerMatch are certificate facts; a certificate matches when every list given has a value
// that matches (text compared case-insensitively; issuer_contains_any is a substring of the
// issuer's distinguished name, subject_cn_any and the others whole values).
type SignerMatch struct {
	SubjectCNAny          []string `json:"subject_cn_any,omitempty"`
	OrganizationAny       []string `json:"organization_any,omitempty"`
	OrganizationalUnitAny []string `json:"organizational_unit_any,omitempty"`
	IssuerContainsAny     []string `json:"issuer_contains_any,omitempty"`
	ExtKeyUsageAny        []string `json:"ext_key_usage_any,omitempty"`
	AppleExtensionsAny    []string `json:"apple_extensions_any,omitempty"`
}

func (m SignerMatch) empty() bool {
	return len(m.SubjectCNAny)+len(m.OrganizationAny)+len(m.OrganizationalUnitAny)+len(m.IssuerContainsAny)+len(m.ExtKeyUsageAny)+len(m.AppleExtensionsAny) == 0
}

// subjectOnly is the part of m a certificate's subject can claim (names anyone can write).
func (m SignerMatch) subjectOnly() SignerMatch {
	return SignerMatch{SubjectCNAny: m.SubjectCNAny, OrganizationAny: m.OrganizationAny, OrganizationalUnitAny: m.OrganizationalUnitAny}
}

func anyEqual(list []string, vals ...string) bool {
	for _, want := range list {
		for _, v := range vals {
			if strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(want)) {
				return true
			}
		}
	}
	return false
}

// matches reports whether c has every fact m gives.
func (m SignerMatch) matches(c *signers.Certificate) bool {
	if c == nil || m.empty() {
		return false
	}
	if len(m.SubjectCNAny) > 0 && !anyEqual(m.SubjectCNAny, c.CommonName) {
		return false
	}
	if len(m.OrganizationAny) > 0 && !anyEqual(m.OrganizationAny, c.Organization) {
		return false
	}
	if len(m.OrganizationalUnitAny) > 0 && !anyEqual(m.OrganizationalUnitAny, c.OrganizationalUnits...) {
		return false
	}
	if len(m.IssuerContainsAny) > 0 {
		found := false
		for _, s := range m.IssuerContainsAny {
			found = found || s != "" && strings.Contains(strings.ToLower(c.Issuer), strings.ToLower(s))
		}
		if !found {
			return false
		}
	}
	if len(m.ExtKeyUsageAny) > 0 && !anyEqual(m.ExtKeyUsageAny, c.ExtKeyUsage...) {
		return false
	}
	if len(m.AppleExtensionsAny) > 0 && !anyEqual(m.AppleExtensionsAny, c.AppleExtensions...) {
		return false
	}
	return true
}

// DefaultRiskySigners returns the embedded list (a new copy each call).
func DefaultRiskySigners() *RiskySigners {
	l, err := ParseRiskySigners(riskySignersJSON)
	if err != nil {
		// The embedded file is checked by TestDefaultRiskLists; an error here is a build
		// defect, not bad input.
		return &RiskySigners{SchemaVersion: 1}
	}
	return l
}

// ParseRiskySigners reads a risky-signer list (the embedded file's format): strict JSON (an
// unknown key is an error), schema_version 1, each entry with an id, a reason, a source and
// at least one fact to match.
func ParseRiskySigners(data []byte) (*RiskySigners, error) {
	var l RiskySigners
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("risky signers: %w", err)
	}
	if l.SchemaVersion != 1 {
		return nil, fmt.Errorf("risky signers: schema_version %d, want 1", l.SchemaVersion)
	}
	var errs []error
	for i, s := range l.Signers {
		switch {
		case s.ID == "":
			errs = append(errs, fmt.Errorf("risky signers: signers[%d]: no id", i))
		case s.Reason == "":
			errs = append(errs, fmt.Errorf("risky signers: %s: no reason", s.ID))
		case len(s.Sources) == 0:
			errs = append(errs, fmt.Errorf("risky signers: %s: no source", s.ID))
		case s.Match.empty():
			errs = append(errs, fmt.Errorf("risky signers: %s: match gives no fact", s.ID))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &l, nil
}

// Add appends other's entries (a user's list extends the built-in one).
func (l *RiskySigners) Add(other *RiskySigners) {
	if other != nil {
		l.Signers = append(l.Signers, other.Signers...)
	}
}

// Match returns the first entry c matches, or nil.
func (l *RiskySigners) Match(c *signers.Certificate) *RiskySigner {
	if l == nil {
		return nil
	}
	for i := range l.Signers {
		if l.Signers[i].Match.matches(c) {
			return &l.Signers[i]
		}
	}
	return nil
}

// Imitation says whether signature s's certificate claims, by its subject names alone, to be
// one of the risky signers while nothing verifies it: self-signed, or a chain that does not
// reach a trusted root. Anyone can write "O=Microsoft Corporation" into a certificate: on a
// machine without the vendor's roots, a genuine leaf and an imitation look the same, so the
// note says which of the two cases it is. "" when s is not such a certificate.
func (l *RiskySigners) Imitation(s *signers.Signature) string {
	if l == nil || s == nil || s.Signer == nil || s.Chain == signers.ChainTrusted {
		return ""
	}
	c := s.Signer
	for i := range l.Signers {
		e := &l.Signers[i]
		sub := e.Match.subjectOnly()
		if sub.empty() || !sub.matches(c) {
			continue
		}
		if c.Issuer != "" && c.Issuer == c.Subject {
			return fmt.Sprintf("IMITATION: self-signed, claims %s", e.Title)
		}
		return fmt.Sprintf("UNVERIFIED claim: %s (chain %s: an imitation looks the same; give the vendor's roots as trusted roots)", e.Title, orUnknown(string(s.Chain)))
	}
	return ""
}

// Interpreters is a list of interpreters and living-off-the-land binaries
// (riskdata/interpreters.json, embedded): programs that run whatever script or command they
// are given, so that an allow rule for one allows everything run with it.
type Interpreters struct {
	SchemaVersion int                `json:"schema_version"`
	About         string             `json:"about,omitempty"`
	Entries       []InterpreterEntry `json:"entries"`
}

// InterpreterEntry is one program under its names, with its kind (interpreter or lolbin)
// and sources.
type InterpreterEntry struct {
	Names   []string `json:"names"`
	Kind    string   `json:"kind"`
	Sources []string `json:"sources"`
}

// DefaultInterpreters returns the embedded list (a new copy each call).
func DefaultInterpreters() *Interpreters {
	var l Interpreters
	dec := json.NewDecoder(bytes.NewReader(interpretersJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return &Interpreters{SchemaVersion: 1} // checked by TestDefaultRiskLists
	}
	return &l
}

// InterpreterMatch is a file recognised as an interpreter or LOLBin: the entry and what gave
// it away (its file name, its PE OriginalFilename, its Apple signing identifier).
type InterpreterMatch struct {
	Entry *InterpreterEntry
	Name  string // the entry's name that matched
	By    string // "file name x", "OriginalFilename x", "signing identifier x"
}

// Text describes the match for reasons and warnings.
func (m *InterpreterMatch) Text() string {
	return fmt.Sprintf("%s is %s (%s; %s)", m.Name, article(m.Entry.Kind), m.By, strings.Join(m.Entry.Sources, "; "))
}

func article(kind string) string {
	if kind == "lolbin" {
		return "a living-off-the-land binary that runs what it is given"
	}
	return "an interpreter that runs any script it is given"
}

// interpreterNames are the forms a file name, OriginalFilename or signing identifier's last
// part is matched in: lower case without extension (rundll32.exe → rundll32), and also
// without a trailing version (python3.12 → python, node18 → node).
func interpreterNames(s string) []string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = path.Base(strings.ReplaceAll(s, `\`, "/"))
	if i := strings.IndexByte(s, '.'); i > 0 {
		s = s[:i]
	}
	if v := strings.TrimRight(s, "0123456789-_"); v != s && v != "" {
		return []string{s, v}
	}
	return []string{s}
}

// MatchName returns the entry a file name (with or without extension or version) names.
func (l *Interpreters) MatchName(name string) *InterpreterMatch {
	if l == nil || name == "" {
		return nil
	}
	for _, n := range interpreterNames(name) {
		for i := range l.Entries {
			for _, want := range l.Entries[i].Names {
				if n == strings.ToLower(want) {
					return &InterpreterMatch{Entry: &l.Entries[i], Name: want}
				}
			}
		}
	}
	return nil
}

// Match recognises f by its file name, its PE OriginalFilename or its Apple signing
// identifiers (the last dot-separated part: com.apple.python3 → python), so that a renamed
// copy is still found.
func (l *Interpreters) Match(f *FileEvidence) *InterpreterMatch {
	if f == nil {
		return nil
	}
	base := path.Base(strings.ReplaceAll(f.Path, `\`, "/"))
	if m := l.MatchName(base); m != nil {
		m.By = "file name " + base
		return m
	}
	if f.PE != nil && f.PE.Version != nil && f.PE.Version.OriginalFilename != "" {
		if m := l.MatchName(f.PE.Version.OriginalFilename); m != nil {
			m.By = "PE OriginalFilename " + f.PE.Version.OriginalFilename
			return m
		}
	}
	for _, s := range f.Signatures {
		if m := l.matchSigningID(s.SigningID); m != nil {
			return m
		}
	}
	if f.MachO != nil {
		for _, sl := range f.MachO.Slices {
			if m := l.matchSigningID(sl.SigningID); m != nil {
				return m
			}
		}
	}
	return nil
}

func (l *Interpreters) matchSigningID(id string) *InterpreterMatch {
	if id == "" {
		return nil
	}
	last := id
	if i := strings.LastIndexByte(id, '.'); i >= 0 && i < len(id)-1 {
		last = id[i+1:]
	}
	if m := l.MatchName(last); m != nil {
		m.By = "signing identifier " + id
		return m
	}
	return nil
}
