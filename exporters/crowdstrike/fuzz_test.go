package crowdstrike_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/edrpolicy/edrpolicy/exporters/crowdstrike"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
)

var fuzzNames = []string{"crowdstrike-ioc.json", "crowdstrike-ioc-002.json", "crowdstrike-ioc.csv", "crowdstrike-ml-exclusions.json", "crowdstrike-cert-exclusions.json"}

// FuzzParse: any bytes under any Falcon file name either fail to parse or give entries whose
// values are values of the file's text (never broader than it), the same on every parse.
func FuzzParse(f *testing.F) {
	golden, _ := filepath.Glob(filepath.Join("testdata", "*", "*"))
	for _, g := range golden {
		data, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		for i, n := range fuzzNames {
			if strings.TrimSuffix(filepath.Base(g), ".json") == strings.TrimSuffix(n, ".json") || filepath.Base(g) == n {
				f.Add(uint8(i), data)
			}
		}
	}
	f.Add(uint8(0), []byte(`{"indicators":[{"type":"sha256","value":"`+strings.Repeat("A", 64)+`","action":"allow","platforms":["windows","mac"]}]}`))
	f.Add(uint8(3), []byte(`[{"value":"/opt/**","excluded_from":["blocking"]}]`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := fuzzNames[int(which)%len(fuzzNames)]
		es, err := crowdstrike.New(crowdstrike.Options{}).Parse(name, data)
		if err != nil {
			return
		}
		leaves := tp.JSONStrings(data)
		if strings.HasSuffix(name, ".csv") {
			leaves = tp.CSVCells(data)
		}
		tp.CheckParsed(t, crowdstrike.Name, name, es, leaves)
		again, err := crowdstrike.New(crowdstrike.Options{}).Parse(name, data)
		if err != nil || !reflect.DeepEqual(es, again) {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}
