package edrpolicy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

func versionedPE(rel, version string, status signers.Status, sigErr string) FileEvidence {
	f := peFile("/inst", rel, h('a'), status)
	f.PE.Version.ProductVersion = version
	f.PE.Version.CompanyName = "Code42 Software"
	if status != signers.StatusUnsigned {
		f.Signatures = []signers.Signature{authSig(vendorCert, status, signers.ChainTrusted, false)}
		f.Signatures[0].Error = sigErr
	}
	return f
}

func bundle(rel, version string, status signers.Status, info signers.BundleInfo) FileEvidence {
	info.ShortVersion = version
	return FileEvidence{Path: rel, Root: "/inst", Format: hashing.FormatAppBundle, SignatureStatus: status, Bundle: &info}
}

// TestDetectVersionUnverified: item 14's family. A version source whose signature or seal
// does not verify is refused (naming it and the flag), whatever the other sources say;
// unsigned and ad-hoc sources are used.
func TestDetectVersionUnverified(t *testing.T) {
	prof := code42(t)
	myapp := myappProfile(t)
	cases := []struct {
		name     string
		prof     *profile.Profile
		os       profile.OS
		files    []FileEvidence
		want     string // version, when accepted
		refusal  string // substring of the ErrUnverifiedVersion message
		notNamed string // a file the refusal must not name
	}{
		{"PE valid", prof, "windows", []FileEvidence{versionedPE("CrashPlanService.exe", "11.2.1", signers.StatusValid, "")}, "11.2.1", "", ""},
		{"PE unsigned: claims nothing, used", prof, "windows", []FileEvidence{versionedPE("CrashPlanService.exe", "11.2.1", signers.StatusUnsigned, "")}, "11.2.1", "", ""},
		{"PE invalid alone", prof, "windows", []FileEvidence{versionedPE("CrashPlanService.exe", "11.2.1", signers.StatusInvalid, "image digest mismatch")},
			"", "the PE version resource of /inst/CrashPlanService.exe, whose Authenticode signature does not verify (image digest mismatch)", ""},
		{"PE invalid outvoted by valid ones is still refused", prof, "windows", []FileEvidence{
			versionedPE("CrashPlanService.exe", "11.2.1", signers.StatusValid, ""),
			versionedPE("electron/CrashPlanDesktop.exe", "11.2.1", signers.StatusValid, ""),
			versionedPE("evil.exe", "8.0.0", signers.StatusInvalid, "page hash mismatch"),
		}, "", "/inst/evil.exe, whose Authenticode signature does not verify (page hash mismatch)", "CrashPlanService.exe"},
		{"PE invalid without a signature error names the file error", prof, "windows", []FileEvidence{func() FileEvidence {
			f := versionedPE("CrashPlanService.exe", "11.2.1", signers.StatusInvalid, "")
			f.Error = "authenticode: certificate table truncated"
			return f
		}()}, "", "does not verify (authenticode: certificate table truncated)", ""},
		{"PE of another company is no source", prof, "windows", []FileEvidence{
			versionedPE("CrashPlanService.exe", "11.2.1", signers.StatusValid, ""),
			func() FileEvidence {
				f := versionedPE("thirdparty.exe", "3.0", signers.StatusInvalid, "x")
				f.PE.Version.CompanyName = "Other Corp"
				return f
			}(),
		}, "11.2.1", "", ""},
		{"bundle valid", prof, "mac", []FileEvidence{bundle("CrashPlan.app", "11.1.0", signers.StatusValid, signers.BundleInfo{})}, "11.1.0", "", ""},
		{"bundle ad-hoc", prof, "mac", []FileEvidence{bundle("CrashPlan.app", "11.1.0", signers.StatusAdhoc, signers.BundleInfo{})}, "11.1.0", "", ""},
		{"bundle signature invalid", prof, "mac", []FileEvidence{bundle("CrashPlan.app", "11.1.0", signers.StatusInvalid, signers.BundleInfo{})},
			"", "the Info.plist of bundle /inst/CrashPlan.app, whose signature or seal does not verify (CrashPlan.app: bundle signature does not verify)", ""},
		{"bundle resource modified", prof, "mac", []FileEvidence{bundle("CrashPlan.app", "11.1.0", signers.StatusValid, signers.BundleInfo{Modified: []string{"Resources/a"}})},
			"", "(CrashPlan.app: 1 sealed file(s) modified)", ""},
		{"bundle resource missing", prof, "mac", []FileEvidence{bundle("CrashPlan.app", "11.1.0", signers.StatusValid, signers.BundleInfo{Missing: []string{"Resources/a"}})},
			"", "(CrashPlan.app: 1 sealed file(s) missing)", ""},
		{"bundle file added", prof, "mac", []FileEvidence{bundle("CrashPlan.app", "11.1.0", signers.StatusValid, signers.BundleInfo{Added: []string{"Resources/b"}})},
			"", "(CrashPlan.app: 1 unsealed file(s) added)", ""},
		{"bundle that failed verification names the error", prof, "mac", []FileEvidence{{Path: "CrashPlan.app", Root: "/inst", Format: hashing.FormatAppBundle, SignatureStatus: signers.StatusInvalid,
			Error: "bundle: Info.plist: /inst/CrashPlan.app/Contents/Info.plist: refused: is 3 GiB, more than the 4 MiB allowed"}},
			"", "bundle signature does not verify: bundle: Info.plist: /inst/CrashPlan.app/Contents/Info.plist: refused: is 3 GiB", ""},
		{"other bundle broken, not a version source", prof, "mac", []FileEvidence{
			bundle("CrashPlan.app", "11.1.0", signers.StatusValid, signers.BundleInfo{}),
			bundle("Helper.app", "1.0", signers.StatusInvalid, signers.BundleInfo{}),
		}, "11.1.0", "", ""},
		{"version file in a broken bundle", myapp, "linux", []FileEvidence{
			bundle("Tool.app", "", signers.StatusValid, signers.BundleInfo{Modified: []string{"VERSION"}}),
			{Path: "Tool.app/VERSION", Root: "/inst", Digests: hashing.Digests{SHA256: h('b')}},
		}, "", "version file /inst/Tool.app/VERSION, in a bundle whose seal is broken (Tool.app: 1 sealed file(s) modified)", ""},
	}
	for _, tc := range cases {
		inv := &Inventory{SchemaVersion: 1, Files: tc.files}
		dv, err := DetectVersion(inv, tc.prof, tc.os)
		if tc.refusal == "" {
			require.NoError(t, err, tc.name)
			assert.Equal(t, tc.want, dv.Version, tc.name)
			continue
		}
		require.Error(t, err, tc.name)
		assert.True(t, errors.Is(err, ErrUnverifiedVersion), "%s: %v", tc.name, err)
		assert.Contains(t, err.Error(), tc.refusal, tc.name)
		assert.Contains(t, err.Error(), "give the version explicitly", tc.name)
		if tc.notNamed != "" {
			assert.NotContains(t, err.Error(), tc.notNamed, tc.name)
		}
	}
}

// A deeply nested Info.plist (a stack-overflow bomb for the plist decoder) is an error naming
// the file, quickly, when the version is read from it without the verifier.
func TestVersionFromNestedPlistBomb(t *testing.T) {
	prof, err := profile.Resolve("code42")
	require.NoError(t, err)
	root := copyTree(t, filepath.Join("..", "examples", "sample", "mac"))
	info := filepath.Join(root, "CrashPlan.app", "Contents", "Info.plist")
	bomb := []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">` + strings.Repeat("<array>", 200000) + strings.Repeat("</array>", 200000) + `</plist>`)
	require.NoError(t, os.WriteFile(info, bomb, 0o644))
	start := time.Now()
	o := GenerateOptions{Roots: []string{root}, AppVersion: VersionAuto, Decide: DecideOptions{Profile: prof, OS: "mac", Level: CriterionHash}}
	o.Inspect.Verifiers = []signers.Verifier{}
	_, err = Generate(context.Background(), o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), info)
	assert.Less(t, time.Since(start), 3*time.Second, "the decoder itself takes 5.8 s and 428 MB on this input")
}
