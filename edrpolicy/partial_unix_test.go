//go:build unix

package edrpolicy

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deepTree creates levels nested folders of 30-byte names under dir (past PATH_MAX when
// levels*31 > 4096) with an executable at the bottom, going down through os.Root so that no
// path handed to the kernel is too long. It returns the bottom file's path relative to dir.
func deepTree(t *testing.T, dir string, levels int) string {
	t.Helper()
	cur, err := os.OpenRoot(dir)
	require.NoError(t, err)
	name := strings.Repeat("d", 30)
	rel := []string{}
	for i := 0; i < levels; i++ {
		require.NoError(t, cur.Mkdir(name, 0o755))
		next, err := cur.OpenRoot(name)
		require.NoError(t, err)
		cur.Close()
		cur = next
		rel = append(rel, name)
	}
	defer cur.Close()
	require.NoError(t, cur.WriteFile("deep.exe", elfBytes("deep"), 0o755))
	return strings.Join(append(rel, "deep.exe"), "/")
}

// TestPartialReadOS: what root still cannot read — a FIFO or socket named like an
// executable, names that are not valid UTF-8 (a file, and a folder whose contents are then
// unknown), a tree deeper than PATH_MAX — each is an unreadable warning of generate, the
// policy is partial, and check --root reports exactly the same names. Non-root runs also see
// an unreadable folder.
func TestPartialReadOS(t *testing.T) {
	root := filepath.Join(t.TempDir(), "app")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "good"), elfBytes("good"), 0o755))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "bin", "CrashPlanService.exe"), 0o755))
	l, err := net.Listen("unix", filepath.Join(root, "bin", "helper.sh"))
	require.NoError(t, err)
	defer l.Close()
	badFile := "bin/bad\xffname"
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(badFile)), elfBytes("bad"), 0o755); err != nil {
		t.Skipf("file system refuses non-UTF-8 names: %v", err)
	}
	badDir := "lib\xc3"
	require.NoError(t, os.Mkdir(filepath.Join(root, badDir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, badDir, "inner"), elfBytes("inner"), 0o755))
	deep := deepTree(t, root, 140)
	want := []string{
		root + "/bin/CrashPlanService.exe",
		root + "/bin/helper.sh",
		QuotePath(root + "/" + badFile),
		QuotePath(root + "/" + badDir),
	}
	if os.Geteuid() != 0 {
		require.NoError(t, os.Mkdir(filepath.Join(root, "locked"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, "locked", "x"), elfBytes("x"), 0o755))
		require.NoError(t, os.Chmod(filepath.Join(root, "locked"), 0))
		t.Cleanup(func() { os.Chmod(filepath.Join(root, "locked"), 0o755) })
		want = append(want, root+"/locked")
	}

	done := make(chan struct{})
	var pol *Policy
	go func() {
		defer close(done)
		pol, err = Generate(context.Background(), GenerateOptions{
			Roots: []string{root}, AppVersion: "2.3.1",
			Decide: DecideOptions{Profile: myappProfile(t), OS: "linux", Level: CriterionHash, Now: testNow},
		})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("generate hangs")
	}
	require.NoError(t, err)
	assert.True(t, pol.Partial)
	var got []string
	for _, w := range pol.Warnings {
		if w.Code == WarnUnreadable {
			got = append(got, w.Files...)
		}
	}
	// The deep file is reported at the level where the path became too long.
	var deepGot string
	for _, g := range got {
		if strings.HasPrefix(g, root+"/"+strings.Repeat("d", 30)) {
			deepGot = g
		}
	}
	require.NotEmpty(t, deepGot, "the deep tree is reported: %q", got)
	assert.True(t, strings.HasPrefix(root+"/"+deep, deepGot), deepGot)
	want = append(want, deepGot)
	sort.Strings(want)
	sort.Strings(got)
	assert.Equal(t, want, got)
	// The non-UTF-8 names come back byte for byte.
	for _, g := range got {
		if strings.HasPrefix(g, `"`) {
			raw, err := strconv.Unquote(g)
			require.NoError(t, err)
			_, err = os.Lstat(raw)
			assert.NoError(t, err, "unquoted name %q names the file", raw)
		}
	}

	rep := runCheck(t, context.Background(), pol, CheckArgs{Roots: []string{root}, InstallPaths: map[string][]string{root: {"/opt/myapp"}}, Now: testNow})
	var simulated, linted []string
	for _, f := range rep.Findings {
		if f.ID != findingUnreadable {
			continue
		}
		if strings.Contains(f.Message, "generated from a partial read") {
			linted = append(linted, f.File)
		} else {
			simulated = append(simulated, f.File)
		}
	}
	sort.Strings(simulated)
	sort.Strings(linted)
	assert.Equal(t, got, simulated, "check --root reports the same files as generate")
	assert.Equal(t, got, linted, "check of the policy names every unreadable file it records")
	assert.True(t, rep.Failed())
}
