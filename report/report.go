// Package report renders a change-approval report for an exception set: what a reviewer reads
// before the exceptions are imported, and what an auditor reads later.
//
// A report is made from an output set (policy.json, coverage.json and the vendor files listed
// in MANIFEST.sha256; Load reads one from a folder) or from the values generate has in memory
// (Build). It holds a summary (application, version and where it came from, level, counts),
// the per-vendor coverage matrix (each executable × each vendor: hash, certificate, path or NOT
// COVERED, from coverage.json), every rule with its files, full hashes, signer (subject,
// issuer, thumbprints, chain, validity, timestamp), reason and source, the warnings, and with a
// previous export the entries to add, delete and keep in each console.
//
// Render writes it as Markdown or as one self-contained HTML file (inline CSS with print
// styles and inline SVG charts; no script, no external style, font, image or link). The same
// input gives the same bytes. Every value read from a policy (file names, signer names,
// reasons) is escaped for the format: a hostile file name cannot add markup to the report.
package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/internal/safeopen"
	"github.com/edrpolicy/edrpolicy/output"
)

// Format is the report's file format.
type Format string

// Formats.
const (
	Markdown Format = "markdown"
	HTML     Format = "html"
)

// FormatFor returns the format a report file name asks for by its extension: .md or
// .markdown for Markdown, .html or .htm for HTML (any case).
func FormatFor(name string) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".md", ".markdown":
		return Markdown, nil
	case ".html", ".htm":
		return HTML, nil
	}
	return "", fmt.Errorf("report %q: the extension says the format: .md (Markdown) or .html (HTML)", name)
}

// Input is what a report is made from.
type Input struct {
	// Policy is the policy (required).
	Policy *edrpolicy.Policy
	// Coverage is coverage.json; nil when no vendor was exported.
	Coverage *exporters.Coverage
	// Files are the output set's files (name and SHA-256), as its MANIFEST.sha256 lists them.
	Files []output.ManifestEntry
	// Problems are what reading the output set found wrong (a file whose digest does not
	// match the manifest, a missing file): shown at the top of the report.
	Problems []string
	// Plan is, per vendor, the console entries to add, delete and keep against a previous
	// export; nil without one.
	Plan []VendorPlan
	// PlanNote says how the plan was computed.
	PlanNote string
}

// Load reads an output folder: policy.json, coverage.json (when present) and
// MANIFEST.sha256, each through safeopen. Every file the manifest lists is checked against
// its digest; a mismatch or a missing file is a Problem, not an error. An error means no
// report can be made: no readable policy.json.
func Load(dir string) (*Input, error) {
	in := &Input{}
	read := func(name string, max int64) ([]byte, error) {
		return safeopen.ReadFile(dir, name, max) // manifest names stay inside dir
	}
	data, err := read(output.PolicyFileName, safeopen.MaxPolicy)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if in.Policy, err = edrpolicy.ParsePolicy(data); err != nil {
		return nil, fmt.Errorf("report: %s: %w", filepath.Join(dir, output.PolicyFileName), err)
	}
	if m, err := read(output.ManifestName, safeopen.MaxManifest); err == nil {
		entries, perr := output.ParseManifest(m)
		if perr != nil {
			in.Problems = append(in.Problems, fmt.Sprintf("%s: %v", output.ManifestName, perr))
		}
		in.Files = entries
		for _, e := range entries {
			if p := checkDigest(read, e); p != "" {
				in.Problems = append(in.Problems, p)
			}
		}
	} else {
		in.Problems = append(in.Problems, fmt.Sprintf("%s: %v: the files are not verified", output.ManifestName, err))
	}
	c, err := read(exporters.CoverageFileName, safeopen.MaxPolicy)
	switch {
	case err == nil:
		var cov exporters.Coverage
		if err := json.Unmarshal(c, &cov); err != nil {
			return nil, fmt.Errorf("report: %s: %w", filepath.Join(dir, exporters.CoverageFileName), err)
		}
		in.Coverage = &cov
	case !errors.Is(err, fs.ErrNotExist):
		in.Problems = append(in.Problems, fmt.Sprintf("%s: %v", exporters.CoverageFileName, err))
	}
	return in, nil
}

// checkDigest compares a manifest entry with the file's content; "" when they agree.
func checkDigest(read func(string, int64) ([]byte, error), e output.ManifestEntry) string {
	data, err := read(e.Name, safeopen.MaxInventory)
	if err != nil {
		return fmt.Sprintf("%s: listed in %s but %v", e.Name, output.ManifestName, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != e.SHA256 {
		return fmt.Sprintf("%s: SHA-256 %s, but %s says %s: the file was changed after it was written", e.Name, got, output.ManifestName, e.SHA256)
	}
	return ""
}

// FilesOf returns the manifest entries of an output set in memory (what output.WriteSet writes
// into MANIFEST.sha256), sorted by name.
func FilesOf(files []output.File) []output.ManifestEntry {
	out := make([]output.ManifestEntry, 0, len(files))
	for _, f := range files {
		sum := sha256.Sum256(f.Data)
		out = append(out, output.ManifestEntry{SHA256: hex.EncodeToString(sum[:]), Name: f.Name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Render writes the report in format f.
func Render(in *Input, f Format) ([]byte, error) {
	if in == nil || in.Policy == nil {
		return nil, fmt.Errorf("report: no policy")
	}
	m := build(in)
	switch f {
	case Markdown:
		return renderMarkdown(m), nil
	case HTML:
		return renderHTML(m)
	}
	return nil, fmt.Errorf("report: format %q: want markdown or html", f)
}
