package defender_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edrpolicy/edrpolicy/exporters/defender"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
)

// seedGolden adds every golden file whose name matches pattern.
func seedGolden(f *testing.F, pattern string, add func(name string, data []byte)) {
	golden, _ := filepath.Glob(filepath.Join("testdata", "*", pattern))
	for _, g := range golden {
		data, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		add(filepath.Base(g), data)
	}
}

var indicatorNames = []string{"defender-indicators-001.csv", "defender-indicators.json", "defender-indicators-002.json", "defender-cert-001.cer"}

// FuzzParseIndicators: indicator CSVs, API bodies and .cer files either fail to parse or give
// entries whose values are values of the file's text (a .cer gives its own SHA-1).
func FuzzParseIndicators(f *testing.F) {
	seedGolden(f, "defender-indicators*", func(name string, data []byte) {
		if strings.HasSuffix(name, ".csv") {
			f.Add(uint8(0), data)
		} else {
			f.Add(uint8(1), data)
		}
	})
	seedGolden(f, "defender-cert-*.cer", func(_ string, data []byte) { f.Add(uint8(3), data) })
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := indicatorNames[int(which)%len(indicatorNames)]
		es, err := defender.New(defender.Options{}).Parse(name, data)
		if err != nil {
			return
		}
		var leaves []string
		switch {
		case strings.HasSuffix(name, ".csv"):
			leaves = tp.CSVCells(data)
		case strings.HasSuffix(name, ".json"):
			leaves = tp.JSONStrings(data)
		}
		tp.CheckParsed(t, defender.Name, name, es, leaves)
		if strings.HasSuffix(name, ".cer") && (len(es) != 1 || len(es[0].Value) != 40) {
			t.Fatalf(".cer gave %+v", es)
		}
	})
}

// FuzzParseScript: any script either fails to parse or gives exclusions whose values appear in
// its text (quote characters aside: a doubled quote stands for one); a parse never adds an
// entry for a line that is only a comment.
func FuzzParseScript(f *testing.F) {
	seedGolden(f, defender.ScriptFile, func(_ string, data []byte) { f.Add(data) })
	f.Add([]byte("\ufeffAdd-MpPreference -ExclusionPath 'C:\\O''Brien\u2019\u2019s','D:\\x' -ExclusionProcess:'C:\\a.exe'\r\n# Add-MpPreference -ExclusionPath 'C:\\'\n"))
	f.Add([]byte("if (-not $WhatIf) { Add-MpPreference -ExclusionPath 'C:\\a' }; Write-Host \"Add-MpPreference -ExclusionPath 'C:\\'\"\n<# x\n#>"))
	strip := func(s string) string {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune("'\u2018\u2019\u201a\u201b", r) {
				return -1
			}
			return r
		}, s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := defender.ParseScript(defender.ScriptFile, data)
		if err != nil {
			return
		}
		tp.CheckParsed(t, defender.Name, defender.ScriptFile, es, nil)
		text := strip(string(data))
		for _, e := range es {
			if !strings.Contains(text, strip(e.Value)) {
				t.Fatalf("entry %q is not in the script's text", e.Value)
			}
		}
	})
}

// FuzzParseManaged: mdatp_managed.json and the wdav plist (or mobileconfig) either fail to
// parse or give exclusions whose values are values of the file's text.
func FuzzParseManaged(f *testing.F) {
	seedGolden(f, defender.ManagedFile, func(_ string, data []byte) { f.Add(false, data) })
	seedGolden(f, defender.WDAVFile, func(_ string, data []byte) { f.Add(true, data) })
	f.Add(true, []byte(`<plist><dict><key>PayloadContent</key><array><dict><key>PayloadType</key><string>com.microsoft.wdav</string><key>antivirusEngine</key><dict><key>exclusions</key><array><dict><key>$type</key><string>excludedPath</string><key>path</key><string>/x</string></dict></array></dict></dict></array></dict></plist>`))
	f.Fuzz(func(t *testing.T, plistFile bool, data []byte) {
		name, leaves := defender.ManagedFile, tp.JSONStrings(data)
		if plistFile {
			name, leaves = defender.WDAVFile, tp.PlistStrings(data)
		}
		es, err := defender.New(defender.Options{}).Parse(name, data)
		if err != nil {
			return
		}
		tp.CheckParsed(t, defender.Name, name, es, leaves)
	})
}
