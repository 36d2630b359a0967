package edrpolicy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/internal/atomicfile"
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

func (c Criterion) rank() int {
	switch c {
	case CriterionHash:
		return 0
	case CriterionSigner:
		return 1
	}
	return 2
}

// Path rule match kinds.
const (
	MatchFile       = "file"
	MatchFolder     = "folder"
	MatchSubfolders = "subfolders"
)

// SourceInspected is the Rule.Source of rules built from inspected files.
const SourceInspected = "inspected"

// Governance are the fields every rule carries for the people who own the exception.
type Governance struct {
	Owner         string `json:"owner"`
	Justification string `json:"justification"`
	// Expires is an RFC 3339 date after which the rule should be reviewed; signer rules
	// carry the earlier of this and the leaf certificate's not_after.
	Expires string `json:"expires"`
	Scope   string `json:"scope"`
}

// Rule is one exception. Its JSON form is the contract's policy.json rule.
type Rule struct {
	Criterion Criterion `json:"criterion"`
	Value     string    `json:"value"`
	// SHA1 and MD5 are, on hash rules, the same file's other digests when the inspection
	// computed them (generate asks for them when a vendor needs them: SentinelOne and
	// Defender's FileSha1 take SHA-1, Falcon can take MD5). Value is always the SHA-256.
	SHA1     string `json:"sha1,omitempty"`
	MD5      string `json:"md5,omitempty"`
	Platform string `json:"platform"`
	// Role is executable (any rule over program files), cache, logs, identity, config or archive.
	Role string `json:"role"`
	// Match is file, folder or subfolders (path rules only).
	Match string `json:"match,omitempty"`
	// Files are the paths the rule covers (endpoint paths where the install location is known).
	Files []string `json:"files"`
	// Reason says why this criterion and not a stronger one.
	Reason string `json:"reason"`
	// Source is the profile's source documents (seed article, supplement source) or "inspected".
	Source     string `json:"source"`
	Confidence string `json:"confidence,omitempty"`
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
	Governance
}

// Warning is something the user should look at before deploying the policy.
type Warning struct {
	// Code is a stable identifier: signer-expiring, hash-upgrade, tampered, unexpected-signer,
	// guardrail-forced, assumed-paths, signer-change, unknown-signer, unreadable, note, ...
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Files   []string `json:"files,omitempty"`
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
	SchemaVersion int    `json:"schema_version"`
	Profile       string `json:"profile"`
	Product       string `json:"product"`
	OS            string `json:"os"`
	AppVersion    string `json:"app_version"`
	// AppVersionSource says where AppVersion came from: "--app-version" or the inspected file.
	AppVersionSource string `json:"app_version_source,omitempty"`
	// AssumedPaths is the version whose path table was used for a version no source covers.
	AssumedPaths string    `json:"assumed_paths,omitempty"`
	Era          string    `json:"era,omitempty"`
	Level        Criterion `json:"level"`
	// Generated is an RFC 3339 time, only when asked for (--timestamp): without it the same
	// inputs give byte-identical files.
	Generated string    `json:"generated,omitempty"`
	Summary   Summary   `json:"summary"`
	Rules     []Rule    `json:"rules"`
	Warnings  []Warning `json:"warnings"`
	// PreviousAppVersion is the app_version of the policy given as DecideOptions.Previous
	// (`generate --previous`).
	PreviousAppVersion string `json:"previous_app_version,omitempty"`
	// Superseded lists the rules of the previous policy that this install no longer
	// matches (a file with a new hash, a signer with a new certificate, a file that is gone),
	// each with the version it belonged to and what replaced it. With KeepPrevious they are
	// also among Rules, labelled with that version.
	Superseded []Superseded `json:"superseded,omitempty"`
}

// Superseded is a rule of the previous policy that the new install no longer matches.
type Superseded struct {
	Criterion Criterion `json:"criterion"`
	Value     string    `json:"value"`
	Platform  string    `json:"platform"`
	Role      string    `json:"role"`
	Files     []string  `json:"files"`
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
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadPolicy reads a policy.json file. Keys this version does not know are ignored, so that a
// newer policy can still be compared with.
func ReadPolicy(file string) (*Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return ParsePolicy(file, data)
}

// ParsePolicy parses the content of a policy.json file; name is the file it came from, for
// the errors. Keys this version does not know are ignored; another schema_version is an
// error.
func ParsePolicy(name string, data []byte) (*Policy, error) {
	var p Policy
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("policy %s: %w", name, err)
	}
	if p.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("policy %s: schema_version %d, this edrpolicy reads %d", name, p.SchemaVersion, SchemaVersion)
	}
	return &p, nil
}

// OutputFile is one file written to an output directory.
type OutputFile struct {
	Name string
	Data []byte
}

// WriteOutputs writes files into dir atomically (each through a temporary file, fsync and
// rename) and then MANIFEST.sha256 in sha256sum format listing every file written, sorted by
// name. The directory is created if needed. Every name is checked before anything is written.
//
// Files that the previous MANIFEST.sha256 in dir listed but this run does not write (say a
// defender-indicators-003.csv from a policy that had more rules) are removed after the new
// manifest is in place, so that a job importing everything in dir never imports a stale file.
// Files the manifest never listed are left alone.
func WriteOutputs(dir string, files []OutputFile) error {
	sorted := append([]OutputFile(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	written := map[string]bool{}
	for _, f := range sorted {
		if !plainName(f.Name) || f.Name == ManifestName {
			return fmt.Errorf("output file name %q is not a plain file name", f.Name)
		}
		if written[f.Name] {
			return fmt.Errorf("output file %q is given twice", f.Name)
		}
		written[f.Name] = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out %s: %w", dir, err)
	}
	previous := manifestNames(filepath.Join(dir, ManifestName))
	var manifest strings.Builder
	for _, f := range sorted {
		if err := atomicfile.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(f.Data)
		fmt.Fprintf(&manifest, "%s  %s\n", hex.EncodeToString(sum[:]), f.Name)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ManifestName), []byte(manifest.String()), 0o644); err != nil {
		return err
	}
	for _, name := range previous {
		if written[name] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s, written by an earlier run and not by this one: %w", filepath.Join(dir, name), err)
		}
	}
	return nil
}

func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00")
}

// manifestNames returns the plain file names a sha256sum-format manifest lists; nothing when
// it is missing or unreadable.
func manifestNames(file string) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || !plainName(name) || name == ManifestName {
			continue
		}
		names = append(names, name)
	}
	return names
}

// ManifestName is the name of the checksum file WriteOutputs writes.
const ManifestName = "MANIFEST.sha256"

// PolicyFileName is the name of the policy in an output directory.
const PolicyFileName = "policy.json"

func sortRules(rules []Rule) {
	for i := range rules {
		sort.Strings(rules[i].Files)
	}
	sort.SliceStable(rules, func(i, j int) bool {
		a, b := rules[i], rules[j]
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
