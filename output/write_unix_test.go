//go:build unix

package output

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteSetEFBIG: a real kernel error. The test binary runs itself with RLIMIT_FSIZE
// set to 64 KiB (writes past it fail with EFBIG; Go does not die of SIGXFSZ) and exports a
// set with a 1 MiB file into a directory holding a previous set.
func TestWriteSetEFBIG(t *testing.T) {
	if dir := os.Getenv("EDRPOLICY_EFBIG_DIR"); dir != "" {
		big := append(outputSet(2, 1), File{Name: "crowdstrike-ioc.json", Data: make([]byte, 1<<20)})
		lim := syscall.Rlimit{Cur: 64 << 10, Max: 64 << 10}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			fmt.Println("setrlimit:", err)
			os.Exit(4)
		}
		err := WriteSet(dir, big)
		fmt.Println("error:", err)
		os.Exit(3)
	}
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, WriteSet(dir, outputSet(1, 3)))
	before := listing(t, dir)
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriteSetEFBIG$")
	cmd.Env = append(os.Environ(), "EDRPOLICY_EFBIG_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	require.Equal(t, 3, ee.ExitCode(), "%s", out)
	assert.Contains(t, string(out), "crowdstrike-ioc.json: staging: write ")
	assert.Contains(t, string(out), "file too large")
	assert.Equal(t, before, listing(t, dir))
	sha256sumCheck(t, dir)
	names := make([]string, 0, len(before))
	for n := range before {
		names = append(names, n)
	}
	sort.Strings(names)
	assert.Equal(t, []string{ManifestName, "defender-indicators-001.csv", "defender-indicators-002.csv", "defender-indicators-003.csv", PolicyFileName}, names)
}
