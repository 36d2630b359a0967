package defender

import (
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/output"
)

// Removal file names.
const (
	RemovalIndicatorsFile = "defender-remove-indicators.json"
	RemovalScriptFile     = "defender-remove-av-exclusions.ps1"
)

// Removal renders how to delete entries from Defender:
//
//   - defender-remove-indicators.json: per indicator, GET /api/indicators with
//     $filter=indicatorValue eq '<value>' (the List Indicators API supports $filter on
//     indicatorValue) to find its id, then POST /api/indicators/BatchDelete with
//     {"IndicatorIds": [...]} (at most 500 ids per call; Microsoft's Batch Delete Indicators
//     API), or DELETE /api/indicators/{id} for one;
//   - defender-remove-av-exclusions.ps1: Remove-MpPreference for the Windows antivirus
//     exclusions, UTF-8 with a BOM, printing each command and running it only without
//     -WhatIf;
//   - macOS and Linux exclusions have no removal request: the new managed configuration
//     (com.microsoft.wdav.plist, mdatp_managed.json) replaces the previous one; the steps
//     say so.
func (Exporter) Removal(es []core.Entry) ([]output.File, error) {
	r := core.Removal{
		Vendor: Name,
		Instructions: []string{
			"Portal: Settings > Endpoints > Indicators (File hashes, Certificates): search each value below and delete the indicator.",
			"API: run each step's find request; put the ids it returns into the IndicatorIds of one BatchDelete request (at most 500 per call).",
			"Windows antivirus exclusions: run " + RemovalScriptFile + " -WhatIf to see the commands, then without -WhatIf in an elevated PowerShell.",
			"macOS and Linux antivirus exclusions: deploy the new com.microsoft.wdav.plist (or .mobileconfig) or mdatp_managed.json; the managed configuration replaces the previous one.",
		},
	}
	var script []core.Entry
	seen := map[string]bool{}
	for _, e := range es {
		k := e.Type + "\x00" + string(e.Platform) + "\x00" + e.Value
		if e.Type == TypeCertificateFile {
			k = "CertificateThumbprint\x00\x00" + e.Value
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		switch e.Type {
		case "FileSha256", "FileSha1", "FileMd5", "CertificateThumbprint", TypeCertificateFile:
			r.Steps = append(r.Steps, indicatorRemoval(e))
		case TypeExclusionPath, TypeExclusionProcess, TypeExclusionExtension:
			script = append(script, e)
		case TypeExcludedPath, TypeExcludedFileName, TypeExcludedExtension:
			r.Steps = append(r.Steps, core.RemovalStep{Type: e.Type, Value: e.Value, Platform: e.Platform,
				Note: "deploy the new " + map[profile.OS]string{profile.OSMac: WDAVFile, profile.OSLinux: ManagedFile}[e.Platform] + ": it replaces the managed configuration that held this exclusion"})
		default:
			return nil, fmt.Errorf("%s: no removal for entry type %q", Name, e.Type)
		}
	}
	var out []output.File
	if len(r.Steps) > 0 {
		data, err := core.JSON(r)
		if err != nil {
			return nil, err
		}
		out = append(out, output.File{Name: RemovalIndicatorsFile, Data: data})
	}
	if len(script) > 0 {
		out = append(out, output.File{Name: RemovalScriptFile, Data: removalScript(script)})
	}
	return out, nil
}

func indicatorRemoval(e core.Entry) core.RemovalStep {
	typ := e.Type
	if typ == TypeCertificateFile {
		typ = "CertificateThumbprint"
	}
	return core.RemovalStep{
		Type: typ, Value: e.Value,
		Find:   &core.APICall{Method: "GET", Path: "/api/indicators", Query: map[string]string{"$filter": "indicatorValue eq '" + e.Value + "'"}},
		Delete: &core.APICall{Method: "POST", Path: "/api/indicators/BatchDelete", Body: map[string]any{"IndicatorIds": []string{core.IDPlaceholder}}},
	}
}

// removalScript renders the Remove-MpPreference script: UTF-8 with a BOM (Windows PowerShell
// 5.1 reads a script without one in the ANSI code page), every value a single-quoted literal,
// each command printed and run only without -WhatIf (Remove-MpPreference documents no
// -WhatIf of its own).
func removalScript(es []core.Entry) []byte {
	var b strings.Builder
	b.WriteString("\ufeff# defender-remove-av-exclusions.ps1: removes Microsoft Defender Antivirus exclusions\n")
	b.WriteString("# that an upgrade no longer needs (in the previous policy's files, not in the new one's).\n")
	b.WriteString("# Run in an elevated PowerShell: first with -WhatIf to print the commands, then without.\n")
	b.WriteString("param(\n    [switch]$WhatIf\n)\n\nSet-StrictMode -Version 2.0\n$ErrorActionPreference = 'Stop'\n\n")
	for _, e := range es {
		cmd := "Remove-MpPreference -" + e.Type + " " + core.PSQuote(e.Value)
		fmt.Fprintf(&b, "Write-Output %s\n", core.PSQuote(cmd))
		fmt.Fprintf(&b, "if (-not $WhatIf) { %s }\n", cmd)
	}
	return []byte(b.String())
}
