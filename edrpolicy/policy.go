package edrpolicy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/internal/jsonerr"
	"github.com/edrpolicy/edrpolicy/internal/jsonout"
	"github.com/edrpolicy/edrpolicy/internal/safeopen"
	"github.com/edrpolicy/edrpolicy/signers"
)

// Criterion is how a rule recognises what it allows: by file hash, by code signer, or by path.
// The order of strength is hash > signer > path; the order of durability across upgrades is
// the reverse.
type Criterion string

// Criteria; the strings are part of the policy.json contract.
const (
	CriterionHash   Criterion = "hash"
	CriterionSigner Criterion = "signer"
	CriterionPath   Criterion = "path"
)

// ParseCriterion parses a --level value.
func ParseCriterion(s string) (Criterion, error) {
	switch c := Criterion(s); c {
	case CriterionHash, CriterionSigner, CriterionPath:
		return c, nil
	}
	return "", fmt.Errorf("level %q: want hash, signer or path", s)
}

// ForcedFiles returns the files the policy's warnings of the given code (WarnGuardrailForced,
// WarnInterpreterForced, WarnRiskySignerForced) record as kept by a forced decision. Nothing
// trusts such a record, anyone can write one; check names it in its messages.
func (p *Policy) ForcedFiles(code WarningCode) map[string]bool {
	out := map[string]bool{}
	for _, w := range p.Warnings {
		if w.Code == code {
			for _, f := range w.Files {
				out[f] = true
			}
		}
	}
	return out
}

// WeakerThan reports whether c is a weaker criterion than o: path is weaker than signer, and
// signer than hash. An unknown criterion counts as path.
func (c Criterion) WeakerThan(o Criterion) bool {
	return c.rank() > o.rank()
}

func (c Criterion) rank() int {
	switch c {
	case CriterionHash:
		return 0
	case CriterionSigner:
		return 1
	}
	return 2
}

// Match is how a path rule's value matches (policy.json "match", path rules only): file (the
// path itself), folder (the files directly in the folder) or subfolders (the folder and
// everything under it).
type Match string

// Path rule match kinds; the strings are part of the policy.json contract.
const (
	MatchFile       Match = "file"
	MatchFolder     Match = "folder"
	MatchSubfolders Match = "subfolders"
)

// Valid reports whether m is one of MatchFile, MatchFolder and MatchSubfolders.
func (m Match) Valid() bool {
	return m == MatchFile || m == MatchFolder || m == MatchSubfolders
}

// SourceInspected is the Rule.Source of rules built from inspected files.
const SourceInspected = "inspected"

// Governance are the fields every rule carries for the people who own the exception. Absent
// values are left out of policy.json (never written as empty strings).
type Governance struct {
	Owner         string `json:"owner,omitempty"`
	Justification string `json:"justification,omitempty"`
	// Expires is the day after which the rule must be reviewed, written as RFC 3339 at
	// midnight UTC of that day (2027-03-01T00:00:00Z): a date, never a time of day, so that
	// the same inputs give the same bytes and an unchanged rule does not churn in the
	// consoles. Signer rules carry the earlier of this and the day of the leaf certificate's
	// not_after. See GovernanceOptions.
	Expires string `json:"expires,omitempty"`
	Scope   string `json:"scope,omitempty"`
}

// Rule is one exception. Its JSON form is the contract's policy.json rule.
type Rule struct {
	Criterion Criterion `json:"criterion"`
	Value     string    `json:"value"`
	// SHA1 and MD5 are, on hash rules, the same file's other digests when the inspection
	// computed them (generate asks for them when a vendor needs them: SentinelOne and
	// Defender's FileSha1 take SHA-1, Falcon can take MD5). Value is always the SHA-256.
	SHA1     string     `json:"sha1,omitempty"`
	MD5      string     `json:"md5,omitempty"`
	Platform profile.OS `json:"platform"`
	// Role is executable (any rule over program files), cache, logs, identity, config or archive.
	Role profile.Role `json:"role"`
	// Match is file, folder or subfolders (path rules only).
	Match Match `json:"match,omitempty"`
	// Files are the paths the rule covers (endpoint paths where the install location is known).
	Files []string `json:"files"`
	// FileDigests are, on signer rules and executable path rules, each covered file with its
	// digests (sorted by path): what an exporter falls back to for a vendor that cannot
	// express the rule itself (see FileDigest).
	FileDigests []FileDigest `json:"file_digests,omitempty"`
	// Reason says why this criterion and not a stronger one.
	Reason string `json:"reason"`
	// Source is the profile's source documents (seed article, supplement source) or "inspected".
	Source     string             `json:"source"`
	Confidence profile.Confidence `json:"confidence,omitempty"`
	// Signer, TeamID, SigningID, FileName and Certificate are for signer rules. FileName or
	// SigningID narrow a signer rule to specific files.
	Signer    *signers.Certificate `json:"signer,omitempty"`
	TeamID    string               `json:"team_id,omitempty"`
	SigningID string               `json:"signing_id,omitempty"`
	FileName  string               `json:"file_name,omitempty"`
	// Certificate is the leaf certificate's DER (base64 in JSON), for exporters that upload
	// the certificate itself.
	Certificate []byte `json:"certificate,omitempty"`
	// Timestamped is set on a signer rule when every signature it was decided from carries a
	// verified timestamp inside the leaf certificate's validity. Such signatures stay valid
	// after the certificate expires, so an expired certificate is then a warning, not an
	// error (check EDR011).
	Timestamped bool `json:"timestamped,omitempty"`
	// AppVersion is set on a rule kept from the previous policy for the rollout window
	// (DecideOptions.KeepPrevious, `generate --keep-previous`): the application version the
	// rule belongs to. Rules of the current version leave it empty.
	AppVersion string `json:"app_version,omitempty"`
	// FirstSeen is the day (YYYY-MM-DD) the rule first appeared, recorded when a governance
	// expiry relative to it is asked for (GovernanceOptions.MaxAge, or Expires as a
	// duration) and carried from the previous policy for a rule that was already there.
	FirstSeen string `json:"first_seen,omitempty"`
	Governance
}

// Warning is something the user should look at before deploying the policy.
type Warning struct {
	// Code is a stable identifier (see WarningCode and its constants).
	Code    WarningCode `json:"code"`
	Message string      `json:"message"`
	Files   []string    `json:"files,omitempty"`
	// Hosts are the hosts a fleet finding concerns (generate --evidence), sorted.
	Hosts []string `json:"hosts,omitempty"`
}

// Summary counts files and rules.
type Summary struct {
	Files  int    `json:"files"`
	Rules  int    `json:"rules"`
	Hash   int    `json:"hash"`
	Signer int    `json:"signer"`
	Path   int    `json:"path"`
	Text   string `json:"text"`
}

// Policy is the decided set of rules. Its JSON form is policy.json; the CLI writes exactly
// the value the library returns.
type Policy struct {
	SchemaVersion int `json:"schema_version"`
	// Generator is the program that wrote the policy (edrpolicy and its module version).
	Generator  *Generator `json:"generator,omitempty"`
	Profile    string     `json:"profile"`
	Product    string     `json:"product"`
	OS         profile.OS `json:"os"`
	AppVersion string     `json:"app_version"`
	// AppVersionSource says where AppVersion came from: VersionGiven ("given explicitly") or the
	// inspected file.
	AppVersionSource string `json:"app_version_source,omitempty"`
	// AssumedPaths is the version whose path table was used for a version no source covers.
	AssumedPaths string    `json:"assumed_paths,omitempty"`
	Era          string    `json:"era,omitempty"`
	Level        Criterion `json:"level"`
	// Roots are the install folders inspected, as given (GenerateOptions.Roots, --root).
	Roots []string `json:"roots,omitempty"`
	// Governance is the governance asked for (--owner, --justification, --expires,
	// --max-age, --scope), as given; each rule carries the values that apply to it.
	Governance *GovernanceOptions `json:"governance,omitempty"`
	// Generated is an RFC 3339 time, only when asked for (--timestamp): without it the same
	// inputs give byte-identical files.
	Generated string    `json:"generated,omitempty"`
	Summary   Summary   `json:"summary"`
	Rules     []Rule    `json:"rules"`
	Warnings  []Warning `json:"warnings"`
	// PinnedSigners are the signer pins the policy was decided with (DecideOptions.PinSigners,
	// `generate --pin-signer`), normalized: Check judges pinned signers as Decide did.
	PinnedSigners []string `json:"pinned_signers,omitempty"`
	// Partial is true when the inspection could not read some files or folders (each is an
	// "unreadable" warning): the rules cover only what was read. Generate exits 1 for it.
	Partial bool `json:"partial,omitempty"`
	// PreviousAppVersion is the app_version of the policy given as DecideOptions.Previous
	// (`generate --previous`).
	PreviousAppVersion string `json:"previous_app_version,omitempty"`
	// Superseded lists the rules of the previous policy that this install no longer
	// matches (a file with a new hash, a signer with a new certificate, a file that is gone),
	// each with the version it belonged to and what replaced it. With KeepPrevious they are
	// also among Rules, labelled with that version.
	Superseded []Superseded `json:"superseded,omitempty"`
	// Fleet summarises the evidence of many hosts the policy was merged from (generate
	// --evidence): hosts, versions, thresholds and findings.
	Fleet *FleetSummary `json:"fleet,omitempty"`
}

// Superseded is a rule of the previous policy that the new install no longer matches.
type Superseded struct {
	Criterion Criterion    `json:"criterion"`
	Value     string       `json:"value"`
	Platform  profile.OS   `json:"platform"`
	Role      profile.Role `json:"role"`
	Files     []string     `json:"files"`
	// AppVersion is the version the rule belonged to.
	AppVersion string `json:"app_version"`
	// By is the value of the rule that replaces it (a new hash, a renewed certificate's
	// thumbprint); empty when nothing replaces it.
	By string `json:"by,omitempty"`
	// Reason is the change, as Diff words it.
	Reason string `json:"reason"`
	// Kept is true when the rule is still in Rules for the rollout window (KeepPrevious).
	Kept bool `json:"kept"`
}

// JSON returns the policy as indented JSON with a final newline (HTML characters unescaped).
func (p *Policy) JSON() ([]byte, error) {
	return jsonout.Indent(p)
}

// ReadPolicy reads a policy.json file. Keys this version does not know are ignored, so that a
// newer policy can still be compared with.
func ReadPolicy(file string) (*Policy, error) {
	p, _, err := ReadPolicyFile(file)
	return p, err
}

// ReadPolicyFile reads and parses a policy.json file and also returns its bytes (export
// copies them verbatim): one read of one descriptor, through safeopen (a regular file of at
// most safeopen.MaxPolicy bytes; a FIFO, device or directory is refused without blocking).
func ReadPolicyFile(file string) (*Policy, []byte, error) {
	data, err := safeopen.ReadFile("", file, safeopen.MaxPolicy)
	if err != nil {
		return nil, nil, fmt.Errorf("policy: %w", err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, nil, fmt.Errorf("policy %s: %w", file, err)
	}
	return p, data, nil
}

// ParsePolicy decodes a policy.json document. A syntax or type error names its line and
// column; a schema_version other than SchemaVersion is refused.
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, locatePolicyError(data, err)
	}
	if p.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("schema_version %d, this edrpolicy reads %d", p.SchemaVersion, SchemaVersion)
	}
	return &p, nil
}

// locatePolicyError places a decoding error in the document. encoding/json gives offsets for
// syntax and type errors only; a time a signer's not_before/not_after cannot parse, or a
// certificate that is not base64, is found by walking the document for the first such value.
func locatePolicyError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) {
		return jsonerr.Locate(data, err, -1)
	}
	off, path, ok := jsonerr.FindValue(data, func(path []string, tok json.Token, raw []byte) bool {
		// Only rules[N].signer.not_before/not_after and rules[N].certificate are decoded by
		// methods (keys match case-insensitively, as encoding/json matches them).
		if !strings.HasPrefix(strings.ToLower(path[0]), "rules[") || strings.Count(path[0], "[") != 1 {
			return false
		}
		switch {
		case len(path) == 3 && strings.EqualFold(path[1], "signer") && (strings.EqualFold(path[2], "not_before") || strings.EqualFold(path[2], "not_after")):
			if tok == nil || tok == json.Delim('{') || tok == json.Delim('[') {
				// null leaves a time zero; for a container, the token is not the value:
				// json.Unmarshal hands time the whole object, which it refuses.
				return tok != nil
			}
			var t time.Time
			return t.UnmarshalJSON(raw) != nil // the bytes encoding/json hands to time
		case len(path) == 2 && strings.EqualFold(path[1], "certificate"):
			s, isString := tok.(string)
			if !isString {
				return false
			}
			_, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(s))
			return err != nil
		}
		return false
	})
	if !ok {
		return err
	}
	line, col := jsonerr.Position(data, off)
	return fmt.Errorf("line %d, column %d: %s: %w", line, col, path, err)
}

// sortRules sorts rules by their first file (the contract's order: a reviewer reads the
// policy file by file), then by criterion (hash, signer, path) and the rule's identity.
func sortRules(rules []Rule) {
	for i := range rules {
		sort.Strings(rules[i].Files)
		sortFileDigests(rules[i].FileDigests)
	}
	sort.SliceStable(rules, func(i, j int) bool {
		a, b := rules[i], rules[j]
		if fa, fb := firstFile(a.Files), firstFile(b.Files); fa != fb {
			return fa < fb
		}
		if a.Criterion != b.Criterion {
			return a.Criterion.rank() < b.Criterion.rank()
		}
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		if a.Role != b.Role {
			return a.Role < b.Role
		}
		if a.Value != b.Value {
			return a.Value < b.Value
		}
		if a.Match != b.Match {
			return a.Match < b.Match
		}
		if a.FileName != b.FileName {
			return a.FileName < b.FileName
		}
		return a.SigningID < b.SigningID
	})
}

func sortWarnings(ws []Warning) {
	for i := range ws {
		sort.Strings(ws[i].Files)
	}
	sort.SliceStable(ws, func(i, j int) bool {
		if ws[i].Code != ws[j].Code {
			return ws[i].Code < ws[j].Code
		}
		return ws[i].Message < ws[j].Message
	})
}
