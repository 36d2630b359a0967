package exporters_test

import (
	"fmt"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/output"
)

func examplePolicy() *edrpolicy.Policy {
	return &edrpolicy.Policy{
		SchemaVersion: edrpolicy.SchemaVersion, Profile: "code42", Product: "crashplan", OS: "windows", AppVersion: "11.4.1",
		Rules: []edrpolicy.Rule{
			{Criterion: edrpolicy.CriterionHash, Value: "73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac", Platform: "windows",
				Role: "executable", Files: []string{`C:\Program Files\CrashPlan\CrashPlanService.exe`}, Reason: "exact build"},
			{Criterion: edrpolicy.CriterionPath, Value: `C:\ProgramData\CrashPlan\cache`, Platform: "windows", Role: "cache",
				Match: edrpolicy.MatchSubfolders, Files: []string{`C:\ProgramData\CrashPlan\cache`}, Reason: "scan exclusion"},
		},
	}
}

// Export renders a policy for several vendors at once; the caller writes the files with
// output.WriteSet.
func ExampleExport() {
	files, warns, err := exporters.Export(exporters.Default(), examplePolicy(), []string{"crowdstrike", "defender"}, exporters.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range files {
		fmt.Println(f.Name)
	}
	for _, w := range warns {
		fmt.Println(w.Code)
	}
	// Output:
	// crowdstrike-ioc.json
	// crowdstrike-ioc.csv
	// crowdstrike-ml-exclusions.json
	// defender-indicators-001.csv
	// defender-indicators.json
	// defender-av-exclusions.ps1
	// coverage.json
	// export-unconfirmed
	// export-unconfirmed
	// export-unconfirmed
}

// Collect also gives each vendor entry written and, per vendor, which entry covers each
// executable of the policy (coverage.json).
func ExampleCollect() {
	res, err := exporters.Collect(exporters.Default(), examplePolicy(), []string{"crowdstrike", "defender"}, exporters.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range res.Coverage.Vendors {
		fmt.Println(v.Line())
		for _, x := range v.Executables {
			fmt.Printf("  %s: %s %s in %s\n", x.File, x.CoveredBy.Type, x.CoveredBy.Value[:12], x.CoveredBy.File)
		}
	}
	// Output:
	// crowdstrike: 1 executables: 1 by hash, 0 by certificate, 0 by path, 0 fallback, 0 NOT COVERED
	//   C:\Program Files\CrashPlan\CrashPlanService.exe: sha256 73cb3858a687 in crowdstrike-ioc.json
	// defender: 1 executables: 1 by hash, 0 by certificate, 0 by path, 0 fallback, 0 NOT COVERED
	//   C:\Program Files\CrashPlan\CrashPlanService.exe: FileSha256 73cb3858a687 in defender-indicators-001.csv
}

// lineCount is a third-party exporter: it writes one text file listing the rule values. It
// gets the policy from an admitted Request, so it never sees a rule the refusals stop.
type lineCount struct{}

func (lineCount) Name() string      { return "lines" }
func (lineCount) Formats() []string { return []string{"txt"} }

// Digests: the values it writes are the policy's own; it needs no digest besides SHA-256.
func (lineCount) Digests() hashing.Algorithms { return hashing.Algorithms{} }
func (lineCount) Export(r *exporters.Request) (*exporters.VendorResult, error) {
	if !r.Admitted() {
		return nil, exporters.ErrNotAdmitted
	}
	var data []byte
	for _, rule := range r.Policy().Rules {
		data = append(data, rule.Value+"\n"...)
	}
	return &exporters.VendorResult{Files: []output.File{{Name: "lines.txt", Data: data}}}, nil
}

// Registry.Register adds your own exporter next to the built-ins.
func ExampleRegistry_Register() {
	reg := exporters.Default()
	if err := reg.Register(lineCount{}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reg.Names())
	files, _, _ := exporters.Export(reg, examplePolicy(), []string{"lines"}, exporters.Options{})
	fmt.Print(string(files[0].Data))
	// Output:
	// [crowdstrike defender lines sentinelone]
	// 73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac
	// C:\ProgramData\CrashPlan\cache
}

// PSQuote makes any file name a safe PowerShell literal.
func ExamplePSQuote() {
	fmt.Println(exporters.PSQuote(`C:\Apps\O'Brien $(calc).exe`))
	// Output: 'C:\Apps\O''Brien $(calc).exe'
}

// CSVCell neutralises cells a spreadsheet would run as formulas.
func ExampleCSVCell() {
	fmt.Println(exporters.CSVCell("=1+1"), exporters.CSVCell("tool.exe"))
	// Output: '=1+1 tool.exe
}

// EscapeGlob refuses a literal metacharacter a vendor cannot escape.
func ExampleEscapeGlob() {
	_, err := exporters.EscapeGlob("/opt/what?.bin", exporters.GlobSyntax{Vendor: "Microsoft Defender", Meta: "?"})
	fmt.Println(err)
	// Output: the name contains '?', which Microsoft Defender reads as a wildcard and has no documented escape for
}
