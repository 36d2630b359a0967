package check

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/signers"
)

// Severity is how much a finding matters: a SARIF 2.1.0 result level, written as "level" in
// `check --format json` and SARIF. (Level, elsewhere in edrpolicy, is a policy's criterion.)
type Severity string

// Severities; the strings are those of SARIF 2.1.0 and of `check --format json`.
const (
	// SeverityError fails the check (Report.Failed).
	SeverityError Severity = "error"
	// SeverityWarning is worth a look but does not fail the check.
	SeverityWarning Severity = "warning"
	// SeverityNote is informational.
	SeverityNote Severity = "note"
)

// Finding ids. Lint findings (EDR0xx) look at the policy alone; simulation findings (EDR1xx)
// need the install (Options.Roots). The ids are stable: scripts and SARIF viewers key
// on them.
const (
	// FindingPolicyHeader: schema_version, os or level of the policy is not one this version
	// knows (error), or the policy has no rules (warning).
	FindingPolicyHeader = "EDR001"
	// FindingCriterion: a rule's criterion is not hash, signer or path.
	FindingCriterion = "EDR002"
	// FindingRole: a rule's role is missing or unknown.
	FindingRole = "EDR003"
	// FindingPlatform: a rule's platform is unknown (error) or not the policy's os (warning).
	FindingPlatform = "EDR004"
	// FindingHashValue: a hash rule's value is not 64 lower-case hex digits (a SHA-256).
	FindingHashValue = "EDR005"
	// FindingHashExtra: a hash rule's sha1 (40) or md5 (32) is not lower-case hex of its length.
	FindingHashExtra = "EDR006"
	// FindingSignerIdentity: a signer rule has no signer certificate thumbprint or Team ID, or
	// its value is not one of them.
	FindingSignerIdentity = "EDR007"
	// FindingPathMatch: a path rule has no value, or its match is missing or unknown.
	FindingPathMatch = "EDR008"
	// FindingGuardrail: a path rule the guardrails refuse (edrpolicy.JudgePathRule). Always an
	// error, also when the policy's warnings record it as kept by a forced decision: export
	// refuses it unless forced. The id is edrpolicy's (a Refusal's).
	FindingGuardrail = edrpolicy.FindingGuardrail
	// FindingExecutableFolder: an executable-role path rule over a folder (match folder or
	// subfolders): never allowed, it trusts whatever lands there. The id is edrpolicy's (a
	// Refusal's).
	FindingExecutableFolder = edrpolicy.FindingExecutableFolder
	// FindingSignerExpired: a signer rule's certificate has expired: an error, or a warning when the
	// rule records (timestamped) that its signatures were timestamped while it was valid.
	FindingSignerExpired = "EDR011"
	// FindingSignerExpiring: a signer rule's certificate expires within
	// Options.ExpiryWarning.
	FindingSignerExpiring = "EDR012"
	// FindingGovernanceExpires: a rule's governance expires date is past (warning) or is not
	// an RFC 3339 time (error).
	FindingGovernanceExpires = "EDR013"
	// FindingDuplicate: a rule repeats an earlier one.
	FindingDuplicate = "EDR014"
	// FindingCoveredByFolder: a file path rule lies in a folder another path rule covers.
	FindingCoveredByFolder = "EDR015"
	// FindingWeakerThanLevel: an executable rule is weaker than the policy's level.
	FindingWeakerThanLevel = "EDR016"

	// FindingNotCovered: an inspected executable no rule covers: the EDR would not allow it.
	FindingNotCovered = "EDR101"
	// FindingPathTampered: a path rule covers a file whose signature does not verify (or whose
	// bundle seal is broken): the exception would trust modified code.
	FindingPathTampered = "EDR102"
	// FindingStaleHash: a hash rule matches no inspected file (a new build replaced it).
	FindingStaleHash = "EDR103"
	// FindingUnusedSigner: a signer rule matches no inspected file (a renewed certificate, a
	// file that is gone).
	FindingUnusedSigner = "EDR104"
	// FindingUnreadable: a file could not be read, so it was not simulated; or the policy was
	// generated from a partial read (its "unreadable" warnings), so no rule covers that file.
	FindingUnreadable = "EDR105"
	// FindingNoInstallPath: the endpoint folder of a root is unknown: path rules were matched
	// against the inspected paths.
	FindingNoInstallPath = "EDR106"
)

// FindingRule describes a finding id: its default severity and a one-line description (the
// SARIF rule's shortDescription).
type FindingRule struct {
	ID string `json:"id"`
	// Severity is the finding's default severity (SARIF's defaultConfiguration.level).
	Severity    Severity `json:"level"`
	Description string   `json:"description"`
}

// FindingRules returns the catalogue of finding ids in id order. Each call returns a new slice.
func FindingRules() []FindingRule {
	rules := append(baseFindingRules(), riskFindingRules()...)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	return rules
}

func baseFindingRules() []FindingRule {
	return append([]FindingRule{
		{FindingPolicyHeader, SeverityError, "policy schema_version, os or level is unknown, or the policy has no rules"},
		{FindingCriterion, SeverityError, "rule criterion is not hash, signer or path"},
		{FindingRole, SeverityError, "rule role is missing or unknown"},
		{FindingPlatform, SeverityError, "rule platform is unknown or not the policy's os"},
		{FindingHashValue, SeverityError, "hash rule value is not a SHA-256 (64 lower-case hex digits)"},
		{FindingHashExtra, SeverityError, "hash rule sha1 or md5 has the wrong length or is not lower-case hex"},
		{FindingSignerIdentity, SeverityError, "signer rule has no certificate thumbprint or Team ID, or its value is neither"},
		{FindingPathMatch, SeverityError, "path rule has no value, or its match is not file, folder or subfolders"},
		{FindingGuardrail, SeverityError, "path rule refused by a guardrail (export refuses it unless forced)"},
		{FindingExecutableFolder, SeverityError, "executable path rule over a folder: never allowed"},
		{FindingSignerExpired, SeverityError, "signer certificate has expired (a warning when its signatures were timestamped while it was valid)"},
		{FindingSignerExpiring, SeverityWarning, "signer certificate expires soon"},
		{FindingGovernanceExpires, SeverityError, "governance expires date is past or malformed: the rule has expired"},
		{FindingDuplicate, SeverityWarning, "duplicate rule"},
		{FindingCoveredByFolder, SeverityWarning, "file path rule already covered by a folder rule"},
		{FindingWeakerThanLevel, SeverityWarning, "executable rule weaker than the policy's level"},
		{FindingNotCovered, SeverityError, "executable no rule covers: it would not be allowed"},
		{FindingPathTampered, SeverityError, "path rule covers a file whose signature does not verify"},
		{FindingStaleHash, SeverityWarning, "hash rule matches no inspected file (stale after an upgrade)"},
		{FindingUnusedSigner, SeverityWarning, "signer rule matches no inspected file"},
		{FindingUnreadable, SeverityError, "file could not be read: not simulated, or the policy was generated without it"},
		{FindingNoInstallPath, SeverityNote, "endpoint folder of a root unknown: path rules matched against inspected paths"},
	}, outputSetRules()...)
}

// Options configure Run.
type Options struct {
	// Roots are install folders to simulate the policy against (optional: without them Run
	// only lints).
	Roots []string
	// InstallPaths maps a root to the folders it is installed as on endpoints, as
	// DecideOptions.InstallPaths. A root without an entry is mapped like Generate does (the
	// profile's main application folder) when the policy's profile is a built-in, else by
	// finding the policy paths that end with the root's relative file paths.
	InstallPaths map[string][]string
	// Inspect configures the inspection of Roots (extra trusted roots, jobs, verifiers).
	Inspect edrpolicy.InspectOptions
	// Now is the time for expiry findings; zero means time.Now().
	Now time.Time
	// ExpiryWarning is how close to its not_after a signer certificate gets a warning; zero
	// means 90 days (the package's ExpiryWarning).
	ExpiryWarning time.Duration
	// Guardrails adds a host check to the path guardrails, as export is given it (see
	// GuardrailOptions); the zero value judges paths by their spelling alone.
	Guardrails edrpolicy.GuardrailOptions
	// RiskySigners and Interpreters are the lists Decide used (nil: the embedded ones).
	RiskySigners *edrpolicy.RiskySigners
	Interpreters *edrpolicy.Interpreters
}

// Finding is one problem Run found.
type Finding struct {
	// ID is the stable finding id (EDR001, ...; see FindingRules).
	ID string `json:"id"`
	// Severity is error, warning or note (JSON "level", as SARIF names it). An error fails
	// the check.
	Severity Severity `json:"level"`
	// Rule is the index of the rule in the policy's rules, when the finding is about a rule.
	Rule *int `json:"rule,omitempty"`
	// Criterion and Value identify that rule.
	Criterion edrpolicy.Criterion `json:"criterion,omitempty"`
	Value     string              `json:"value,omitempty"`
	// File is the file the finding is about (an endpoint path, or the inspected path when
	// the endpoint folder is unknown), or a root for FindingNoInstallPath; for output-set
	// findings (EDR2xx) the file of the output folder, or the endpoint path of the executable.
	File string `json:"file,omitempty"`
	// Vendor is the vendor an output-set finding is about (EDR2xx).
	Vendor  string `json:"vendor,omitempty"`
	Message string `json:"message"`
}

// RuleRef returns "rules[N]" for a finding about a rule, else "".
func (f Finding) RuleRef() string {
	if f.Rule == nil {
		return ""
	}
	return fmt.Sprintf("rules[%d]", *f.Rule)
}

// Summary counts findings by severity.
type Summary struct {
	Errors   int    `json:"errors"`
	Warnings int    `json:"warnings"`
	Notes    int    `json:"notes"`
	Text     string `json:"text"`
}

// Simulation is what the policy does to the inspected install.
type Simulation struct {
	// Roots are the inspected roots with the endpoint folders they were mapped to.
	Roots []SimulatedRoot `json:"roots"`
	// Executables counts the executables simulated; Hash, Signer and Path those covered by
	// each criterion (the strongest when several cover a file), NotCovered the rest.
	Executables int `json:"executables"`
	Hash        int `json:"hash"`
	Signer      int `json:"signer"`
	Path        int `json:"path"`
	NotCovered  int `json:"not_covered"`
	// Files is one record per executable, sorted by path.
	Files []SimulatedFile `json:"files"`
	// Text is "N executables: a covered by hash, b by signer, c by path, d not covered".
	Text string `json:"text"`
	// Evidence holds the simulated executables with their evidence, sorted by path as Files
	// is, for a caller that simulates more than the policy (the vendor files of an output
	// folder). Not part of the JSON report.
	Evidence []Executable `json:"-"`
}

// Executable is one executable a simulation covered or not: its evidence and the paths it
// has on endpoints.
type Executable struct {
	// File is the inspection's evidence (digests, signatures).
	File *edrpolicy.FileEvidence
	// Path is the inspected file (root/relative path), as SimulatedFile.Path.
	Path string
	// Endpoints are the paths the file has on endpoints.
	Endpoints []string
	// Tampered is true when the file's signature (or its bundle's seal) does not verify.
	Tampered bool
}

// SimulatedRoot is an inspected root and the endpoint folders its files were given.
type SimulatedRoot struct {
	Root         string   `json:"root"`
	InstallPaths []string `json:"install_paths,omitempty"`
	// From says where InstallPaths came from: "option", "profile", "policy" (inferred from the
	// policy's paths) or "none".
	From string `json:"from"`
}

// SimulatedFile is one executable and the rule that covers it.
type SimulatedFile struct {
	// Path is the inspected file (root/relative path).
	Path string `json:"path"`
	// Endpoints are the paths the file has on endpoints.
	Endpoints []string `json:"endpoints"`
	SHA256    string   `json:"sha256,omitempty"`
	// CoveredBy is hash, signer or path; empty when no rule covers the file.
	CoveredBy edrpolicy.Criterion `json:"covered_by,omitempty"`
	// Rule is the index of the covering rule.
	Rule *int `json:"rule,omitempty"`
	// Tampered is true when the file's signature (or its bundle's seal) does not verify.
	Tampered bool `json:"tampered,omitempty"`
}

// Report is the result of Run; its JSON form is `check --format json`.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Findings      []Finding `json:"findings"`
	Summary       Summary   `json:"summary"`
	// Simulation is present when roots were given.
	Simulation *Simulation `json:"simulation,omitempty"`
}

// Failed reports whether any finding is an error.
func (r *Report) Failed() bool {
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Run lints a policy and, with Options.Roots, simulates it against an install.
//
// Lint looks at every rule: malformed criteria, roles, platforms, hashes, signers and path
// matches; the guardrails and executable path rules over folders, judged as Decide and export
// judge them (PathRuleRefusals: always errors, whatever the policy's warnings record); expired and expiring
// signer certificates; past governance expiry dates; duplicate rules and file rules a folder
// rule already covers; rules weaker than the policy's level.
//
// Simulation inspects the roots and asks, for every executable, which rule would allow it: a
// hash rule by SHA-256; a signer rule when the file's signature is valid and one of its
// signatures has the rule's thumbprint (or Apple Team ID) and, if the rule is narrowed, its
// file_name or signing_id; a path rule by the file's endpoint path. Executables no rule
// covers, path rules over files whose signature does not verify, and hash and signer rules
// that match nothing are reported.
//
// The error return is for a nil policy, a root that is not a directory and a cancelled
// context; everything about the policy itself is a Finding.
func Run(ctx context.Context, pol *edrpolicy.Policy, opts Options) (*Report, error) {
	if pol == nil {
		return nil, fmt.Errorf("check: no policy")
	}
	c := &checker{pol: pol, opts: opts, now: opts.Now, soon: opts.ExpiryWarning}
	if c.now.IsZero() {
		c.now = time.Now()
	}
	c.interp = opts.Interpreters
	if c.interp == nil {
		c.interp = edrpolicy.DefaultInterpreters()
	}
	if c.soon <= 0 {
		c.soon = edrpolicy.ExpiryWarning
	}
	c.lint()
	if len(opts.Roots) > 0 {
		if err := c.simulate(ctx); err != nil {
			return nil, err
		}
	}
	rep := &Report{SchemaVersion: edrpolicy.SchemaVersion, Findings: c.findings, Simulation: c.sim}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	rep.Summarize()
	return rep, nil
}

func countNoun(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

type checker struct {
	pol      *edrpolicy.Policy
	opts     Options
	now      time.Time
	soon     time.Duration
	findings []Finding
	sim      *Simulation
	install  *edrpolicy.Install // the inspected roots, judged as Decide judges them
	interp   *edrpolicy.Interpreters
}

func (c *checker) add(id string, sev Severity, rule int, file, format string, args ...any) {
	f := Finding{ID: id, Severity: sev, File: file, Message: fmt.Sprintf(format, args...)}
	if rule >= 0 && rule < len(c.pol.Rules) {
		i := rule
		f.Rule = &i
		f.Criterion, f.Value = c.pol.Rules[i].Criterion, c.pol.Rules[i].Value
	}
	c.findings = append(c.findings, f)
}

var (
	reHex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	reHex40 = regexp.MustCompile(`^[0-9a-f]{40}$`)
	reHex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

func knownOS(os profile.OS) bool {
	return os == profile.OSWindows || os == profile.OSMac || os == profile.OSLinux
}

func (c *checker) lint() {
	p := c.pol
	if p.SchemaVersion != edrpolicy.SchemaVersion {
		c.add(FindingPolicyHeader, SeverityError, -1, "", "schema_version %d: this edrpolicy reads %d", p.SchemaVersion, edrpolicy.SchemaVersion)
	}
	if !knownOS(p.OS) {
		c.add(FindingPolicyHeader, SeverityError, -1, "", "os %q: want windows, mac or linux", p.OS)
	}
	if _, err := edrpolicy.ParseCriterion(string(p.Level)); err != nil {
		c.add(FindingPolicyHeader, SeverityError, -1, "", "level %q: want hash, signer or path", p.Level)
	}
	if len(p.Rules) == 0 {
		c.add(FindingPolicyHeader, SeverityWarning, -1, "", "the policy has no rules: it allows nothing")
	}
	forced := p.ForcedFiles(edrpolicy.WarnGuardrailForced)
	ro := edrpolicy.RefusalOptions{Guardrails: c.opts.Guardrails, RiskySigners: c.opts.RiskySigners, Interpreters: c.opts.Interpreters}
	for i := range p.Rules {
		// The exporters' judgement of the rule (RuleRefusals), made once: the path refusals
		// for lintPath, the interpreter and risky-signer ones for lintRisk.
		refusals := edrpolicy.RuleRefusals(&p.Rules[i], p.OS, ro)
		c.lintRule(i, forced, refusals)
		c.lintRisk(i, refusals)
	}
	c.lintDuplicates()
	c.lintCovered()
	c.lintPartial()
}

func (c *checker) lintRule(i int, forced map[string]bool, refusals []edrpolicy.Refusal) {
	r := &c.pol.Rules[i]
	if !r.Role.Valid() {
		c.add(FindingRole, SeverityError, i, "", "role %q: want executable, cache, logs, identity, config or archive", r.Role)
	}
	switch {
	case !knownOS(r.Platform):
		c.add(FindingPlatform, SeverityError, i, "", "platform %q: want windows, mac or linux", r.Platform)
	case knownOS(c.pol.OS) && r.Platform != c.pol.OS:
		c.add(FindingPlatform, SeverityWarning, i, "", "platform %s in a policy for %s", r.Platform, c.pol.OS)
	}
	if g := r.Governance.Expires; g != "" && r.Criterion != edrpolicy.CriterionSigner {
		c.lintExpires(i, g)
	}
	switch r.Criterion {
	case edrpolicy.CriterionHash:
		if !reHex64.MatchString(r.Value) {
			c.add(FindingHashValue, SeverityError, i, "", "hash rule value %q is not a SHA-256: want 64 lower-case hex digits", r.Value)
		}
		if r.SHA1 != "" && !reHex40.MatchString(r.SHA1) {
			c.add(FindingHashExtra, SeverityError, i, "", "sha1 %q: want 40 lower-case hex digits", r.SHA1)
		}
		if r.MD5 != "" && !reHex32.MatchString(r.MD5) {
			c.add(FindingHashExtra, SeverityError, i, "", "md5 %q: want 32 lower-case hex digits", r.MD5)
		}
	case edrpolicy.CriterionSigner:
		c.lintSigner(i)
	case edrpolicy.CriterionPath:
		c.lintPath(i, forced, refusals)
	default:
		c.add(FindingCriterion, SeverityError, i, "", "criterion %q: want hash, signer or path", r.Criterion)
	}
	if r.Role == profile.RoleExecutable && c.weaker(r.Criterion) {
		c.add(FindingWeakerThanLevel, SeverityWarning, i, "", "%s rule for program files in a policy of level %s: a weaker criterion than the policy accepts", r.Criterion, c.pol.Level)
	}
}

// weaker reports whether an executable rule of criterion cr is weaker than the policy's
// level. Signer rules are allowed at level path (Decide prefers them there), and a hash rule
// is never weaker.
func (c *checker) weaker(cr edrpolicy.Criterion) bool {
	lvl, err := edrpolicy.ParseCriterion(string(c.pol.Level))
	if err != nil {
		return false
	}
	switch cr {
	case edrpolicy.CriterionSigner, edrpolicy.CriterionPath:
		return cr.WeakerThan(lvl)
	}
	return false
}

func (c *checker) lintExpires(i int, expires string) {
	t, err := time.Parse(time.RFC3339, expires)
	if err != nil {
		c.add(FindingGovernanceExpires, SeverityError, i, "", "expires %q is not an RFC 3339 time such as 2027-01-31T00:00:00Z", expires)
		return
	}
	if !t.After(c.now) {
		c.add(FindingGovernanceExpires, SeverityError, i, "", "rule expired on %s: review it (renew the approval with a new expiry, or remove the rule)", t.UTC().Format("2006-01-02"))
	}
}

func (c *checker) lintSigner(i int) {
	r := &c.pol.Rules[i]
	s := r.Signer
	hasThumb := s != nil && (s.ThumbprintSHA1 != "" || s.ThumbprintSHA256 != "")
	switch {
	case r.Value == "":
		c.add(FindingSignerIdentity, SeverityError, i, "", "signer rule without a value: want the leaf thumbprint or the Apple Team ID")
	case r.TeamID != "":
		if !strings.EqualFold(r.Value, r.TeamID) {
			c.add(FindingSignerIdentity, SeverityError, i, "", "signer rule value %s is not its team_id %s", r.Value, r.TeamID)
		}
	case !hasThumb:
		c.add(FindingSignerIdentity, SeverityError, i, "", "signer rule without a signer certificate thumbprint or team_id: nothing identifies the signer")
	case !strings.EqualFold(r.Value, s.ThumbprintSHA1) && !strings.EqualFold(r.Value, s.ThumbprintSHA256):
		c.add(FindingSignerIdentity, SeverityError, i, "", "signer rule value %s is neither thumbprint of its signer certificate", r.Value)
	}
	// The certificate's not_after and the governance review date.
	if s != nil && !s.NotAfter.IsZero() {
		day := s.NotAfter.UTC().Format("2006-01-02")
		switch left := s.NotAfter.Sub(c.now); {
		case left < 0 && r.Timestamped:
			c.add(FindingSignerExpired, SeverityWarning, i, "", "signer certificate %s expired on %s; its signatures were timestamped while it was valid, so they stay valid: files signed after that carry a renewed certificate this rule does not match", orUnknown(s.CommonName), day)
		case left < 0:
			c.add(FindingSignerExpired, SeverityError, i, "", "signer certificate %s expired on %s: files signed after that carry a renewed certificate this rule does not match", orUnknown(s.CommonName), day)
		case left < c.soon:
			c.add(FindingSignerExpiring, SeverityWarning, i, "", "signer certificate %s expires on %s, within %d days: the next release will be signed with a renewed certificate", orUnknown(s.CommonName), day, int(c.soon.Hours()/24))
		}
	}
	if r.Expires != "" && (s == nil || !sameInstant(r.Expires, s.NotAfter)) {
		c.lintExpires(i, r.Expires)
	}
}

// sameInstant reports whether the RFC 3339 string names t or midnight UTC of t's day (a signer
// rule's expires taken from the certificate, which the certificate findings already cover).
func sameInstant(s string, t time.Time) bool {
	u, err := time.Parse(time.RFC3339, s)
	return err == nil && (u.Equal(t) || u.Equal(edrpolicy.Day(t)))
}

func (c *checker) lintPath(i int, forced map[string]bool, refusals []edrpolicy.Refusal) {
	r := &c.pol.Rules[i]
	if strings.TrimSpace(r.Value) == "" {
		c.add(FindingPathMatch, SeverityError, i, "", "path rule without a value")
		return
	}
	switch r.Match {
	case edrpolicy.MatchFile, edrpolicy.MatchFolder, edrpolicy.MatchSubfolders:
	case "":
		c.add(FindingPathMatch, SeverityError, i, "", "path rule without match: want file, folder or subfolders")
	default:
		c.add(FindingPathMatch, SeverityError, i, "", "match %q: want file, folder or subfolders", r.Match)
	}
	// The same judgment as Decide and export (PathRuleRefusals): every refusal is an error,
	// since export refuses the rule unless it is given --force, whatever the policy's own
	// warnings say.
	for _, ref := range refusals {
		switch {
		case ref.ID == FindingInterpreter || ref.ID == FindingRiskySigner:
			// lintRisk's
		case ref.ID != FindingGuardrail:
			c.add(ref.ID, SeverityError, i, "", "%s", ref.Reason)
		case forced[r.Value]:
			c.add(FindingGuardrail, SeverityError, i, "", "path rule %s is %s: the policy's warnings record it as kept by a forced decision, but export does not trust a policy's warnings and refuses it unless forced", r.Value, ref.Reason)
		default:
			c.add(FindingGuardrail, SeverityError, i, "", "path rule %s is %s: narrow the path; export refuses it unless forced", r.Value, ref.Reason)
		}
	}
}

// dupKey identifies a rule for duplicate detection, as Diff pairs the same exception (path
// values compared as paths, thumbprints case-insensitively).
func dupKey(r *edrpolicy.Rule) string {
	v := r.Value
	if r.Criterion == edrpolicy.CriterionPath {
		v = normPath(r.Platform, v)
	} else if r.Criterion == edrpolicy.CriterionSigner {
		v = strings.ToLower(v)
	}
	return strings.Join([]string{string(r.Criterion), string(r.Platform), string(r.Role), v, string(r.Match), r.FileName, r.SigningID}, "\x00")
}

func (c *checker) lintDuplicates() {
	first := map[string]int{}
	for i := range c.pol.Rules {
		k := dupKey(&c.pol.Rules[i])
		if j, ok := first[k]; ok {
			c.add(FindingDuplicate, SeverityWarning, i, "", "duplicate of rules[%d]: remove one", j)
			continue
		}
		first[k] = i
	}
}

func (c *checker) lintCovered() {
	rules := c.pol.Rules
	for i := range rules {
		f := &rules[i]
		if f.Criterion != edrpolicy.CriterionPath || f.Match != edrpolicy.MatchFile || f.Value == "" {
			continue
		}
		for j := range rules {
			d := &rules[j]
			if j == i || d.Criterion != edrpolicy.CriterionPath || d.Platform != f.Platform || d.Value == "" {
				continue
			}
			if (d.Match == edrpolicy.MatchSubfolders || d.Match == edrpolicy.MatchFolder) && pathRuleMatches(d, f.Platform, f.Value) {
				c.add(FindingCoveredByFolder, SeverityWarning, i, f.Value, "file rule already covered by the %s rule rules[%d] (%s): remove it or narrow the folder rule", d.Match, j, d.Value)
				break
			}
		}
	}
}

// normPath is a path in comparable form: slash-separated, without a trailing separator, lower
// case on Windows (whose paths are case-insensitive).
func normPath(platform profile.OS, p string) string {
	p = strings.ReplaceAll(strings.TrimSpace(p), `\`, "/")
	if platform == profile.OSWindows {
		p = strings.ToLower(p)
	}
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	return p
}

// globMatch matches a normalised path against a normalised rule value whose segments may
// hold wildcards (* within a segment, as the consoles and the profiles use them).
func globMatch(pattern, name string) bool {
	if pattern == name {
		return true
	}
	if !strings.ContainsAny(pattern, "*?[") {
		return false
	}
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// pathRuleMatches reports whether path rule r covers the endpoint path p.
func pathRuleMatches(r *edrpolicy.Rule, platform profile.OS, p string) bool {
	v, n := normPath(platform, r.Value), normPath(platform, p)
	switch r.Match {
	case edrpolicy.MatchFile:
		return globMatch(v, n)
	case edrpolicy.MatchFolder:
		return globMatch(v, path.Dir(n))
	case edrpolicy.MatchSubfolders:
		for dir := path.Dir(n); ; dir = path.Dir(dir) {
			if globMatch(v, dir) {
				return true
			}
			if dir == "/" || dir == "." || !strings.Contains(dir, "/") {
				return false
			}
		}
	}
	return false
}

// simExec is one executable under simulation.
type simExec struct {
	file      *edrpolicy.FileEvidence
	display   string
	endpoints []string
	tampered  bool
}

func (c *checker) simulate(ctx context.Context) error {
	roots := make([]string, len(c.opts.Roots))
	for i, r := range c.opts.Roots {
		roots[i] = filepath.Clean(r)
	}
	in, err := edrpolicy.InspectInstall(ctx, roots, c.opts.Inspect, c.pol.PinnedSigners, c.now)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	c.install = in
	inv := in.Inventory
	prof := c.profile()
	var scripts []string
	if prof != nil {
		scripts = prof.ScriptGlobs(c.pol.OS)
	}
	var execs []*simExec
	for _, f := range in.Executables(scripts) {
		execs = append(execs, &simExec{file: f, display: f.DisplayPath(), tampered: in.Tampered(f)})
	}
	for _, u := range edrpolicy.UnreadFiles(inv) {
		// Unread, it may be an executable: say so rather than pass it over.
		c.add(FindingUnreadable, SeverityError, -1, u.Name, "file could not be read (%s): not simulated; an executable here would not be checked", u.Reason)
	}
	sim := &Simulation{Files: []SimulatedFile{}}
	mapping := c.installPaths(prof, roots, inv, execs)
	for _, root := range roots {
		m := mapping[root]
		sim.Roots = append(sim.Roots, SimulatedRoot{Root: root, InstallPaths: m.paths, From: m.from})
		if m.from == "none" {
			c.add(FindingNoInstallPath, SeverityNote, -1, root, "the endpoint folder of root %s is unknown (no profile mapping, no policy path ends with its files): path rules were matched against the inspected paths; give its install path", root)
		}
	}
	for _, e := range execs {
		e.endpoints = endpointsFor(c.pol.OS, e.file, mapping[e.file.Root].paths)
	}
	c.cover(sim, execs, inv)
	c.sim = sim
	return nil
}

// profile returns the policy's profile when it is a built-in, else nil.
func (c *checker) profile() *profile.Profile {
	if c.pol.Profile == "" {
		return nil
	}
	p, err := profile.BuiltIn(c.pol.Profile)
	if err != nil {
		return nil
	}
	return p
}

type rootMapping struct {
	paths []string
	from  string
}

// installPaths maps each root to endpoint folders: the option, else the profile (as Generate
// does: InstallPaths), else the folders policy paths give when they end with the root's files.
func (c *checker) installPaths(prof *profile.Profile, roots []string, inv *edrpolicy.Inventory, execs []*simExec) map[string]rootMapping {
	out := map[string]rootMapping{}
	opt := map[string][]string{}
	for k, v := range c.opts.InstallPaths {
		opt[filepath.Clean(k)] = v
	}
	fromProfile := c.profileInstallPaths(prof, inv)
	for _, root := range roots {
		switch {
		case len(opt[root]) > 0:
			out[root] = rootMapping{paths: opt[root], from: "option"}
		case len(fromProfile[root]) > 0:
			out[root] = rootMapping{paths: fromProfile[root], from: "profile"}
		default:
			if bases := c.inferBases(root, execs); len(bases) > 0 {
				out[root] = rootMapping{paths: bases, from: "policy"}
			} else {
				out[root] = rootMapping{from: "none"}
			}
		}
	}
	return out
}

// profileInstallPaths is InstallPaths for the policy's profile, OS, product, version and
// assumed paths, or nil when they give none: no profile, a version or assumed_paths that does
// not parse, a version in a gap, a product or version without install folder. The roots are
// then mapped from the policy's own paths (inferBases).
func (c *checker) profileInstallPaths(prof *profile.Profile, inv *edrpolicy.Inventory) map[string][]string {
	if prof == nil {
		return nil
	}
	q := edrpolicy.InstallQuery{Profile: prof, Product: c.pol.Product, OS: c.pol.OS, Inventory: inv}
	var err error
	if c.pol.AppVersion != "" {
		if q.Version, err = profile.ParseVersion(c.pol.AppVersion); err != nil {
			return nil
		}
	}
	if c.pol.AssumedPaths != "" {
		if q.AssumePaths, err = profile.ParseVersion(c.pol.AssumedPaths); err != nil {
			return nil
		}
	}
	paths, err := edrpolicy.InstallPaths(q)
	if err != nil {
		return nil
	}
	return paths
}

// inferBases finds the endpoint folders of a root from the policy: every rule file or path
// value that ends with a file's path relative to the root gives the folder before it.
func (c *checker) inferBases(root string, execs []*simExec) []string {
	var paths []string
	for i := range c.pol.Rules {
		r := &c.pol.Rules[i]
		paths = append(paths, r.Files...)
		if r.Criterion == edrpolicy.CriterionPath {
			paths = append(paths, r.Value)
		}
	}
	found := map[string]bool{}
	for _, e := range execs {
		if e.file.Root != root {
			continue
		}
		rel := "/" + normPath(c.pol.OS, e.file.Path)
		for _, p := range paths {
			n := normPath(c.pol.OS, p)
			if len(n) > len(rel) && strings.HasSuffix(n, rel) {
				found[strings.TrimRight(p[:len(n)-len(rel)], `/\`)] = true
			}
		}
	}
	out := make([]string, 0, len(found))
	for b := range found {
		out = append(out, b)
	}
	sort.Strings(out)
	return out
}

// endpointsFor is the file's paths on endpoints under the given folders, as Decide names them.
func endpointsFor(osName profile.OS, f *edrpolicy.FileEvidence, bases []string) []string {
	if len(bases) == 0 {
		return []string{f.DisplayPath()}
	}
	sep := "/"
	if osName == profile.OSWindows {
		sep = `\`
	}
	rel := strings.ReplaceAll(f.Path, "/", sep)
	out := make([]string, 0, len(bases))
	for _, b := range bases {
		out = append(out, strings.TrimRight(edrpolicy.ExpandUserPath(osName, b), `/\`)+sep+rel)
	}
	return out
}

// signerMatches reports whether signer rule r allows file f: one of f's signatures that
// Decide would accept for a signer rule (signerJudge: valid, leaf allowed to sign code and
// valid when it signed, chain trusted or leaf pinned, strong digests or pinned, Apple Team ID
// proven by the certificate) names r's signer, and f has r's file_name or signing_id. A Team
// ID rule matches only a Team ID the certificate proves; a thumbprint rule, that leaf.
func (c *checker) signerMatches(r *edrpolicy.Rule, f *edrpolicy.FileEvidence) bool {
	return SignerRuleAllows(r, c.install, f)
}

// SignerRuleAllows reports whether signer rule r allows file f of the install in: one of the
// signatures of f that Decide would accept for a signer rule (Install.TrustedSignatures) has
// the rule's thumbprint, or its proven Apple Team ID, and, when the rule is narrowed, its
// file_name or signing_id. This is the simulation's test for signer rules.
func SignerRuleAllows(r *edrpolicy.Rule, in *edrpolicy.Install, f *edrpolicy.FileEvidence) bool {
	sigs, _ := in.TrustedSignatures(f)
	return ruleMatchesSigners(r, f, sigs)
}

// ruleMatchesSigners is signerMatches over the signatures fileSigners accepted for f.
func ruleMatchesSigners(r *edrpolicy.Rule, f *edrpolicy.FileEvidence, sigs []*signers.Signature) bool {
	for _, s := range sigs {
		if r.TeamID != "" {
			if team, _ := edrpolicy.ProvenTeamID(s); team != r.TeamID {
				continue
			}
		} else {
			if s.Signer == nil || r.Value == "" {
				continue
			}
			if !strings.EqualFold(r.Value, s.Signer.ThumbprintSHA1) && !strings.EqualFold(r.Value, s.Signer.ThumbprintSHA256) {
				continue
			}
		}
		if r.SigningID != "" && s.SigningID != r.SigningID {
			continue
		}
		if r.FileName != "" && !strings.EqualFold(r.FileName, peFileName(f)) {
			continue
		}
		return true
	}
	return false
}

// peFileName is the name a narrowed signer rule names: the PE OriginalFilename, else the base
// name.
func peFileName(f *edrpolicy.FileEvidence) string {
	if f.PE != nil && f.PE.Version != nil && f.PE.Version.OriginalFilename != "" {
		return f.PE.Version.OriginalFilename
	}
	return path.Base(f.Path)
}

// cover simulates the policy over the executables: which rule covers each (the strongest
// criterion wins), path rules over tampered files, executables no rule covers, and rules
// that match nothing.
func (c *checker) cover(sim *Simulation, execs []*simExec, inv *edrpolicy.Inventory) {
	usedSigner := map[int]bool{}
	for _, e := range execs {
		sf := c.coverOne(sim, e, usedSigner)
		if sf.Rule != nil {
			c.simRisk(e, *sf.Rule)
		}
		c.simUnsealed(e)
		sim.Files = append(sim.Files, sf)
	}
	sim.Executables = len(execs)
	sort.Slice(sim.Files, func(i, j int) bool { return sim.Files[i].Path < sim.Files[j].Path })
	sim.Evidence = simulatedEvidence(execs)
	sim.Text = fmt.Sprintf("%s: %d covered by hash, %d by signer, %d by path, %d not covered", countNoun(sim.Executables, "executable"), sim.Hash, sim.Signer, sim.Path, sim.NotCovered)
	c.unmatched(inv, usedSigner)
}

// ruleHits are the rules that cover one executable: the first hash and signer rules (-1
// for none) and, per endpoint path, the first path rule.
type ruleHits struct {
	hash, signer int
	path         map[string]int
}

// coverOne finds the rule that covers e, counts it in sim, records the signer rules that
// match it in usedSigner, and reports path rules over a tampered file and an executable no
// rule covers.
func (c *checker) coverOne(sim *Simulation, e *simExec, usedSigner map[int]bool) SimulatedFile {
	sf := SimulatedFile{Path: e.display, Endpoints: e.endpoints, SHA256: e.file.SHA256, Tampered: e.tampered}
	hits := c.matchRules(e, usedSigner)
	var uncovered []string
	for _, ep := range e.endpoints {
		if _, ok := hits.path[ep]; !ok {
			uncovered = append(uncovered, ep)
		}
	}
	switch {
	case hits.hash >= 0:
		sf.CoveredBy, sf.Rule = edrpolicy.CriterionHash, intPtr(hits.hash)
		sim.Hash++
	case hits.signer >= 0:
		sf.CoveredBy, sf.Rule = edrpolicy.CriterionSigner, intPtr(hits.signer)
		sim.Signer++
	case len(uncovered) == 0:
		sf.CoveredBy, sf.Rule = edrpolicy.CriterionPath, intPtr(hits.path[e.endpoints[0]])
		sim.Path++
	default:
		sim.NotCovered++
		for _, ep := range uncovered {
			c.add(FindingNotCovered, SeverityError, -1, ep, "%s", c.notCoveredMessage(e.file))
		}
	}
	return sf
}

// matchRules matches every rule against e; a path rule over a tampered file is reported.
func (c *checker) matchRules(e *simExec, usedSigner map[int]bool) ruleHits {
	hits := ruleHits{hash: -1, signer: -1, path: map[string]int{}}
	worthy, _ := c.install.TrustedSignatures(e.file) // once per file, not per rule
	for i := range c.pol.Rules {
		r := &c.pol.Rules[i]
		switch r.Criterion {
		case edrpolicy.CriterionHash:
			if hits.hash < 0 && strings.EqualFold(r.Value, e.file.SHA256) {
				hits.hash = i
			}
		case edrpolicy.CriterionSigner:
			if ruleMatchesSigners(r, e.file, worthy) {
				usedSigner[i] = true
				if hits.signer < 0 {
					hits.signer = i
				}
			}
		case edrpolicy.CriterionPath:
			for _, ep := range e.endpoints {
				if !pathRuleMatches(r, c.pol.OS, ep) {
					continue
				}
				if _, ok := hits.path[ep]; !ok {
					hits.path[ep] = i
				}
				if e.tampered {
					c.add(FindingPathTampered, SeverityError, i, ep, "path rule covers a file whose signature does not verify (tampered, truncated or a broken bundle seal): the exception would allow modified code; remove the path rule, or confirm the install is genuine and use a hash rule")
				}
			}
		}
	}
	return hits
}

// unmatched reports hash rules no inspected file has the digest of and signer rules that
// matched no executable: notes for rules kept from an earlier version for the rollout
// window, warnings otherwise.
func (c *checker) unmatched(inv *edrpolicy.Inventory, usedSigner map[int]bool) {
	sums := map[string]bool{}
	for i := range inv.Files {
		if s := inv.Files[i].SHA256; s != "" {
			sums[s] = true
		}
	}
	for i := range c.pol.Rules {
		r := &c.pol.Rules[i]
		sev, kept := SeverityWarning, ""
		if r.AppVersion != "" && r.AppVersion != c.pol.AppVersion {
			sev, kept = SeverityNote, fmt.Sprintf(" (kept from version %s for the rollout window: expected while endpoints run both versions)", r.AppVersion)
		}
		switch r.Criterion {
		case edrpolicy.CriterionHash:
			if r.Value != "" && !sums[strings.ToLower(r.Value)] {
				c.add(FindingStaleHash, sev, i, firstFile(r.Files), "hash rule matches no inspected file: stale (a new build replaced the file, or it is gone)%s", kept)
			}
		case edrpolicy.CriterionSigner:
			if !usedSigner[i] {
				c.add(FindingUnusedSigner, sev, i, firstFile(r.Files), "signer rule matches no inspected file: its certificate was renewed or its files are gone%s", kept)
			}
		}
	}
}

func (c *checker) notCoveredMessage(f *edrpolicy.FileEvidence) string {
	why := "would not be allowed: no hash, signer or path rule covers it" + c.interpreterNote(f)
	switch f.SignatureStatus {
	case signers.StatusValid:
		sigs, reason := c.install.TrustedSignatures(f)
		if len(sigs) == 0 {
			return why + " (valid signature, but not one a signer rule may trust: " + reason + ")"
		}
		s := sigs[0]
		if team, _ := edrpolicy.ProvenTeamID(s); team != "" {
			return why + fmt.Sprintf(" (valid signature, Team ID %s)", team)
		}
		return why + fmt.Sprintf(" (valid signature by %s, thumbprint %s)", orUnknown(s.Signer.CommonName), s.Signer.ThumbprintSHA1)
	case signers.StatusUnsigned:
		return why + " (unsigned)"
	case signers.StatusAdhoc:
		return why + " (ad-hoc signature)"
	case signers.StatusInvalid:
		return why + " (signature does not verify)"
	}
	return why
}

func intPtr(i int) *int { return &i }

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func firstFile(files []string) string {
	if len(files) == 0 {
		return ""
	}
	return files[0]
}

func severityRank(l Severity) int {
	switch l {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	}
	return 2
}

// sortFindings orders findings by level (errors first), id, rule index (policy-level
// findings first), file and message.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if severityRank(a.Severity) != severityRank(b.Severity) {
			return severityRank(a.Severity) < severityRank(b.Severity)
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		ai, bi := -1, -1
		if a.Rule != nil {
			ai = *a.Rule
		}
		if b.Rule != nil {
			bi = *b.Rule
		}
		if ai != bi {
			return ai < bi
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Message < b.Message
	})
}

// lintPartial reports a policy generated from a partial read: each file its "unreadable"
// warnings name was not read, so nothing in the policy covers it.
func (c *checker) lintPartial() {
	for _, w := range c.pol.Warnings {
		if w.Code != edrpolicy.WarnUnreadable {
			continue
		}
		for _, f := range w.Files {
			c.add(FindingUnreadable, SeverityError, -1, f, "the policy was generated from a partial read: %s was not read, so no rule covers it; make it readable (or remove it) and generate again", f)
		}
	}
}
