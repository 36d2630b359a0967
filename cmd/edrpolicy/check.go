package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/check"
)

type checkOptions struct {
	format       string
	roots        []string
	installPaths []string
	trustRoots   string
	jobs         int
	vendors      []string
}

// checkDoc is the JSON form of `check --format json`: the library's report with the policy
// file it is about.
type checkDoc struct {
	Policy string `json:"policy"`
	*check.Report
}

func newCheckCmd(a *app) *cobra.Command {
	o := &checkOptions{}
	c := &cobra.Command{
		Use:   "check policy.json|OUT_DIR",
		Short: "Simulate and lint a policy",
		Long: `check lints a policy: malformed rules (criterion, role, platform, hash lengths, signer
identity, path match), the guardrails of generate and export and their executable-folder rule
(the same judgment: a path rule they refuse is an error even when the policy's warnings record
it as kept with --force, since export refuses it unless given --force), expired or expiring
signer certificates, past review dates, duplicate rules and file rules a folder rule already
covers.

With --root DIR (repeatable) it also inspects the install and simulates the policy: every
executable must be allowed by a hash rule (SHA-256), a signer rule (valid signature from the
rule's certificate or Team ID, and its file_name or signing_id when narrowed) or a path rule
(the file's path on endpoints: --install-path, else the profile's application folder, else the
folder the policy's own paths give). A path rule over a file whose signature does not verify
is an error; hash and signer rules that match no inspected file are stale (warnings).

Given an output folder of generate --out or export (OUT_DIR) instead of a policy file, check
verifies MANIFEST.sha256 first, checks the folder's policy.json as above, reads every vendor
file back and simulates each vendor with its own matching (hash type, certificate or
publisher, path glob language, environment variables, case): an executable that a vendor's
files do not allow is an error for that vendor (EDR210), as are rules a vendor's files do not
express (EDR211) and entries the policy does not give (EDR212). --vendor (repeatable or
comma-separated) names the vendors the folder must serve (default: those it holds files of).

Output: --format table (LEVEL ID RULE FILE MESSAGE and a summary), json (the report) or sarif
(SARIF 2.1.0, for code-scanning tools).

Exit codes: 0 no error-level finding; 1 findings fail the policy; 2 usage error, an unreadable
policy or root.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("check needs one policy file (got %d argument(s))", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return o.run(c, a, args[0]) },
	}
	f := c.Flags()
	f.StringVar(&o.format, "format", "table", "output format: table, json or sarif")
	f.StringArrayVar(&o.roots, "root", nil, "install folder to simulate the policy against (repeatable)")
	f.StringArrayVar(&o.installPaths, "install-path", nil, "the folder each --root is installed as on endpoints, in --root order (default: the profile's main application folder)")
	f.StringVar(&o.trustRoots, "roots", "", "PEM file of extra trusted root certificates")
	f.IntVar(&o.jobs, "jobs", 0, "files inspected in parallel (default: number of CPUs)")
	f.StringSliceVar(&o.vendors, "vendor", nil, "with OUT_DIR: vendors the folder must serve (repeatable or comma-separated; default: those it has files of)")
	return c
}

func (o *checkOptions) run(c *cobra.Command, a *app, file string) error {
	switch o.format {
	case "table", "json", "sarif":
	default:
		return usageErr("--format: %q is not a format; use table, json or sarif", o.format)
	}
	if len(o.installPaths) > 0 && len(o.installPaths) != len(o.roots) {
		return usageErr("--install-path: give one per --root, in the same order (%d --root, %d --install-path)", len(o.roots), len(o.installPaths))
	}
	if fi, err := os.Stat(file); err == nil && fi.IsDir() {
		return o.runOutDir(c, a, file)
	}
	if len(o.vendors) > 0 {
		return usageErr("--vendor: only with an output folder (check OUT_DIR): a policy file holds no vendor files")
	}
	pol, raw, err := edrpolicy.ReadPolicyFile(file)
	if err != nil {
		return usageErr("check: %w", err)
	}
	vopts, err := verifyOptions(o.trustRoots)
	if err != nil {
		return err
	}
	opts := check.Options{Inspect: edrpolicy.InspectOptions{Jobs: o.jobs, Verify: vopts}, Guardrails: edrpolicy.HostGuardrails()}
	for i, r := range o.roots {
		r = filepath.Clean(r)
		opts.Roots = append(opts.Roots, r)
		if len(o.installPaths) > 0 {
			if o.installPaths[i] == "" {
				return usageErr("--install-path %d is empty", i+1)
			}
			if opts.InstallPaths == nil {
				opts.InstallPaths = map[string][]string{}
			}
			opts.InstallPaths[r] = append(opts.InstallPaths[r], o.installPaths[i])
		}
	}
	bar := newProgressBar(a)
	opts.Inspect.Progress = bar.update
	rep, err := check.Run(c.Context(), pol, opts)
	bar.finish()
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("%w (see 'edrpolicy check --help')", err)}
	}
	switch o.format {
	case "json":
		err = writeJSON(a.stdout, checkDoc{Policy: file, Report: rep})
	case "sarif":
		err = writeJSON(a.stdout, sarifLog(file, ruleLines(raw), rep))
	default:
		err = writeCheckTable(a.stdout, rep)
	}
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("writing output: %w", err)}
	}
	if rep.Failed() {
		return attention()
	}
	return nil
}

func writeCheckTable(w io.Writer, rep *check.Report) error {
	if len(rep.Findings) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		row(tw, "LEVEL", "ID", "RULE", "FILE", "MESSAGE")
		for _, f := range rep.Findings {
			row(tw, string(f.Severity), f.ID, orDash(f.RuleRef()), orDash(f.File), f.Message)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if rep.Simulation != nil {
		if _, err := fmt.Fprintln(w, esc(rep.Simulation.Text)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, esc(rep.Summary.Text))
	return err
}

// ruleLines returns the line on which each rule object of the policy document starts (index i
// for rules[i]), or what it found before the document could no longer be scanned.
func ruleLines(data []byte) []int {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var lines []int
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return lines
		}
		if key != "rules" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return lines
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return lines
		}
		for dec.More() {
			// InputOffset is where the previous token ended: skip the comma and spaces.
			start := int(dec.InputOffset())
			for start < len(data) && data[start] != '{' {
				start++
			}
			var rule json.RawMessage
			if dec.Decode(&rule) != nil {
				return lines
			}
			lines = append(lines, 1+bytes.Count(data[:start], []byte("\n")))
		}
		return lines
	}
	return lines
}

// SARIF 2.1.0 output: the subset code-scanning tools read.
type sarifDoc struct {
	Version string     `json:"version"`
	Schema  string     `json:"$schema"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	ShortDescription     sarifMessage `json:"shortDescription"`
	DefaultConfiguration sarifConfig  `json:"defaultConfiguration"`
}

type sarifConfig struct {
	Severity check.Severity `json:"level"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID     string            `json:"ruleId"`
	RuleIndex  int               `json:"ruleIndex"`
	Severity   check.Severity    `json:"level"`
	Message    sarifMessage      `json:"message"`
	Locations  []sarifLocation   `json:"locations"`
	Properties map[string]string `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

const sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// sarifLog renders a check report as SARIF 2.1.0. Every result points at the policy file
// (with the rule's start line when lines has it) and, for a finding about a rule, names the
// rule as the logical location "rules[N]". The finding's file, criterion and value go in the
// result's properties.
func sarifLog(policyFile string, lines []int, rep *check.Report) sarifDoc {
	catalogue := check.FindingRules()
	index := map[string]int{}
	rules := make([]sarifRule, 0, len(catalogue))
	for i, r := range catalogue {
		index[r.ID] = i
		rules = append(rules, sarifRule{ID: r.ID, ShortDescription: sarifMessage{Text: r.Description}, DefaultConfiguration: sarifConfig{Severity: r.Severity}})
	}
	uri := fileURI(policyFile)
	results := make([]sarifResult, 0, len(rep.Findings))
	for _, f := range rep.Findings {
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: uri}}}
		if f.Rule != nil {
			if *f.Rule < len(lines) {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: lines[*f.Rule]}
			}
			loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: f.RuleRef(), Kind: "object"}}
		}
		res := sarifResult{RuleID: f.ID, RuleIndex: index[f.ID], Severity: f.Severity, Message: sarifMessage{Text: sarifText(f)}, Locations: []sarifLocation{loc}}
		props := map[string]string{}
		if f.File != "" {
			props["file"] = f.File
		}
		if f.Vendor != "" {
			props["vendor"] = f.Vendor
		}
		if f.Criterion != "" {
			props["criterion"] = string(f.Criterion)
		}
		if f.Value != "" {
			props["value"] = f.Value
		}
		if len(props) > 0 {
			res.Properties = props
		}
		results = append(results, res)
	}
	return sarifDoc{
		Version: "2.1.0",
		Schema:  sarifSchema,
		Runs: []sarifRun{{
			Tool:    sarifTool{Driver: sarifDriver{Name: "edrpolicy", InformationURI: "https://github.com/edrpolicy/edrpolicy", Rules: rules}},
			Results: results,
		}},
	}
}

// fileURI is the SARIF artifact URI of a file: a relative reference for a relative path, a
// file: URI for an absolute one, percent-encoded either way.
func fileURI(file string) string {
	p := filepath.ToSlash(file)
	if filepath.IsAbs(file) {
		return (&url.URL{Scheme: "file", Path: "/" + strings.TrimPrefix(p, "/")}).String()
	}
	return (&url.URL{Path: p}).String()
}

// sarifText is the finding's message, prefixed with the file it is about, since a SARIF
// viewer shows the message alone.
func sarifText(f check.Finding) string {
	if f.File != "" {
		return f.File + ": " + f.Message
	}
	return f.Message
}
