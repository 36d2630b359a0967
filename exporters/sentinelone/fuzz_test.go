package sentinelone_test

import (
	"os"
	"path/filepath"
	"testing"

	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
)

// FuzzParse: any bytes either fail to parse as sentinelone-exclusions.json or give entries
// whose values are values of the file's text.
func FuzzParse(f *testing.F) {
	golden, _ := filepath.Glob(filepath.Join("testdata", "*", sentinelone.FileName))
	for _, g := range golden {
		data, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`[{"data":{"type":"path","osType":"windows_legacy","value":"\\","pathExclusionType":"subfolders","mode":"suppress"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := sentinelone.New(sentinelone.Options{}).Parse(sentinelone.FileName, data)
		if err != nil {
			return
		}
		tp.CheckParsed(t, sentinelone.Name, sentinelone.FileName, es, tp.JSONStrings(data))
	})
}
