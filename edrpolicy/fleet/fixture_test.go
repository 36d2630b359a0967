package fleet

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// The sample install (examples/sample): real Authenticode- and Apple-signed files, signed by a
// throwaway CA, for 11.1.0 (v1) and 11.2.0 (v2, with a renewed certificate).
const sampleDir = "../../examples/sample"

// Thumbprints of the sample signer's certificate (v1) and its renewal (v2).
const (
	sampleV1Thumb = "ea85936ab6f5ee86cd20bb9323ef87bd4220a617"
	sampleV2Thumb = "48b9e39aa20a"
)

func sampleRoots(t testing.TB) signers.Options {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sampleDir, "ca.pem"))
	require.NoError(t, err)
	pool, _, err := signers.ParseRoots(data)
	require.NoError(t, err)
	return signers.Options{Roots: pool}
}

// inspectAs inspects a local copy of an install as `edrpolicy inspect --host HOST` would on an
// endpoint where the install lives at endpointRoot.
func inspectAs(t testing.TB, dir, endpointRoot, host string) *edrpolicy.Inventory {
	t.Helper()
	inv, err := edrpolicy.Inspect(context.Background(), []string{dir}, edrpolicy.InspectOptions{Verify: sampleRoots(t), Digests: hashing.Algorithms{SHA1: true}})
	require.NoError(t, err)
	for i := range inv.Files {
		inv.Files[i].Root = endpointRoot
	}
	inv.Host = host
	return inv
}

func inventoryJSON(t testing.TB, inv *edrpolicy.Inventory) []byte {
	var buf bytes.Buffer
	require.NoError(t, inv.WriteJSON(&buf))
	return buf.Bytes()
}

// build is one version's files as osquery reports them.
type build struct {
	version string
	files   []osqFile
}

type osqFile struct {
	rel, sha256, sha1 string
	size              int64
	productVersion    string
	authenticode      string // Windows
	signed, team      string // macOS signature columns; team "" with signed "1" is ad-hoc
	identifier        string
}

// buildOf turns an inspected sample install into the rows its hosts' osquery would report.
func buildOf(inv *edrpolicy.Inventory, version string) build {
	b := build{version: version}
	for _, f := range inv.Files {
		if f.Format == hashing.FormatAppBundle || f.SHA256 == "" {
			continue
		}
		o := osqFile{rel: f.Path, sha256: f.SHA256, sha1: f.SHA1, size: f.Size}
		switch {
		case f.Format == hashing.FormatPE:
			o.productVersion = version + ".0"
			o.authenticode = "trusted"
			if f.SignatureStatus == signers.StatusUnsigned {
				o.authenticode = "missing"
			}
		case f.Format == hashing.FormatMachO:
			o.signed, o.team, o.identifier = "1", "EDRSAMPLE1", "com.example.edrpolicy-sample.crashplan"
		default:
			o.signed = "0"
		}
		b.files = append(b.files, o)
	}
	sort.Slice(b.files, func(i, j int) bool { return b.files[i].rel < b.files[j].rel })
	return b
}

// syntheticBuild is a version no reference inspection covers: only osquery saw it.
func syntheticBuild(like build, version string) build {
	b := build{version: version}
	for _, f := range like.files {
		f.sha256 = sum("build " + version + " " + f.rel)
		f.sha1 = ""
		if f.productVersion != "" {
			f.productVersion = version + ".0"
		}
		b.files = append(b.files, f)
	}
	return b
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// columns is one osquery row of the query pack's shape.
func columns(os profile.OS, base string, f osqFile) map[string]any {
	sep := "/"
	if os == profile.OSWindows {
		sep = `\`
	}
	c := map[string]any{"path": base + sep + strings.ReplaceAll(f.rel, "/", sep), "size": fmt.Sprint(f.size), "sha256": f.sha256}
	if f.sha1 != "" {
		c["sha1"] = f.sha1
	}
	switch os {
	case profile.OSWindows:
		c["product_version"], c["file_version"] = f.productVersion, f.productVersion
		c["authenticode_result"] = f.authenticode
	case profile.OSMac:
		c["signed"], c["team_identifier"], c["identifier"] = f.signed, f.team, f.identifier
		if f.signed == "1" && f.team != "" {
			c["authority"] = "Developer ID Application: edrpolicy sample, NOT CrashPlan (" + f.team + ")"
		}
		if f.signed == "1" && f.team == "" {
			c["authority"] = ""
		}
	}
	return c
}

// logWriter writes osqueryd results in one of the log forms.
type logWriter struct {
	buf  bytes.Buffer
	form string // event, snapshot, batch
}

func (w *logWriter) host(host string, rows []map[string]any, removed []map[string]any) {
	enc := json.NewEncoder(&w.buf)
	switch w.form {
	case "event":
		for _, r := range removed {
			enc.Encode(map[string]any{"name": "pack_edrpolicy_code42_files_01", "hostIdentifier": host, "calendarTime": "Mon Jan  5 10:00:00 2026 UTC", "unixTime": 1767607200, "epoch": 0, "counter": 1, "numerics": false, "columns": r, "action": "removed"})
		}
		for _, r := range rows {
			enc.Encode(map[string]any{"name": "pack_edrpolicy_code42_files_01", "hostIdentifier": host, "calendarTime": "Mon Jan  5 10:00:00 2026 UTC", "unixTime": 1767607200, "epoch": 0, "counter": 1, "numerics": false, "columns": r, "action": "added"})
		}
	case "snapshot":
		enc.Encode(map[string]any{"snapshot": rows, "action": "snapshot", "name": "pack_edrpolicy_code42_files_01", "hostIdentifier": host, "calendarTime": "Mon Jan  5 10:00:00 2026 UTC", "unixTime": 1767607200, "epoch": 0, "counter": 0, "numerics": false})
	case "batch":
		if removed == nil {
			removed = []map[string]any{}
		}
		enc.Encode(map[string]any{"diffResults": map[string]any{"added": rows, "removed": removed}, "name": "pack_edrpolicy_code42_files_01", "hostIdentifier": host, "calendarTime": "Mon Jan  5 10:00:00 2026 UTC", "unixTime": 1767607200, "epoch": 0, "counter": 0, "numerics": false})
	}
}

func gz(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return out.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

func hostName(prefix string, i int) string { return fmt.Sprintf("%s-%04d", prefix, i) }
