package macho_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/macho"
	"github.com/edrpolicy/edrpolicy/signers/safeplist"
)

// FuzzInfoPlist verifies a bundle whose Info.plist is arbitrary bytes. The bundle either
// fails with an error naming Info.plist, or reports exactly the identifier, versions and
// executable that the property list holds; with an ad-hoc main executable it is never
// valid.
func FuzzInfoPlist(f *testing.F) {
	for _, v := range []map[string]any{
		{"CFBundleIdentifier": "com.example.app", "CFBundleExecutable": "App", "CFBundleShortVersionString": "1.2.3", "CFBundleVersion": "45"},
		{"CFBundleExecutable": "../../../etc/passwd"},
		{"CFBundleExecutable": []any{"App"}, "CFBundleVersion": 7},
	} {
		for _, format := range []int{plist.XMLFormat, plist.BinaryFormat, plist.OpenStepFormat} {
			if b, err := plist.Marshal(v, format); err == nil {
				f.Add(b)
			}
		}
	}
	exe := testfixtures.MachOTiny(testfixtures.CPUArm64, "com.example.app", nil)
	v := macho.New()
	type info struct {
		Identifier   string `plist:"CFBundleIdentifier"`
		ShortVersion string `plist:"CFBundleShortVersionString"`
		Build        string `plist:"CFBundleVersion"`
		Executable   string `plist:"CFBundleExecutable"`
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys := fstest.MapFS{
			"App.app/Contents/Info.plist": {Data: b},
			"App.app/Contents/MacOS/App":  {Data: exe, Mode: 0o755},
		}
		res, err := v.VerifyBundle(context.Background(), fsys, "App.app", signers.Options{})
		var want info
		_, perr := safeplist.Unmarshal(b, &want)
		if err != nil {
			if perr == nil {
				t.Fatalf("Info.plist decodes but the bundle fails: %v", err)
			}
			if !strings.Contains(err.Error(), "Info.plist") {
				t.Fatalf("error does not name Info.plist: %v", err)
			}
			return
		}
		if perr != nil {
			t.Fatalf("Info.plist does not decode (%v) but the bundle verified", perr)
		}
		got := info{res.Bundle.Identifier, res.Bundle.ShortVersion, res.Bundle.BuildVersion, res.Bundle.Executable}
		if got != want {
			t.Fatalf("bundle reports %+v, Info.plist holds %+v", got, want)
		}
		if res.Status == signers.StatusValid {
			t.Fatalf("valid bundle from an ad-hoc executable: %+v", res.Signatures)
		}
	})
}
