//go:build unix

package safeopen

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func unixCases() []hostileCase {
	return []hostileCase{
		{"FIFO with no writer", func(t *testing.T, root string) string {
			require.NoError(t, syscall.Mkfifo(filepath.Join(root, "Info.plist"), 0o644))
			return "Info.plist"
		}, MaxInfoPlist, ErrNotRegular, "refused: a named pipe (FIFO), not a regular file"},
		{"symlink to a FIFO inside the root", func(t *testing.T, root string) string {
			require.NoError(t, syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644))
			symlink(t, "pipe", filepath.Join(root, "version.txt"))
			return "version.txt"
		}, MaxVersionFile, ErrNotRegular, "named pipe"},
		{"socket", func(t *testing.T, root string) string {
			l, err := net.Listen("unix", filepath.Join(root, "s"))
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
			return "s"
		}, MaxInfoPlist, ErrNotRegular, "refused: a socket, not a regular file"},
		{"symlink to /dev/zero", func(t *testing.T, root string) string {
			symlink(t, "/dev/zero", filepath.Join(root, "Info.plist"))
			return "Info.plist"
		}, MaxInfoPlist, ErrOutsideRoot, "leads outside"},
		{"relative symlink climbing to /dev/zero", func(t *testing.T, root string) string {
			up := strings.Repeat("../", strings.Count(root, "/")+2)
			symlink(t, up+"dev/zero", filepath.Join(root, "Info.plist"))
			return "Info.plist"
		}, MaxInfoPlist, ErrOutsideRoot, "leads outside"},
		{"character device node inside the root", func(t *testing.T, root string) string {
			// mknod needs privileges; root has them (tests run as root in CI).
			if err := syscall.Mknod(filepath.Join(root, "zero"), syscall.S_IFCHR|0o644, int(unixMkdev(1, 5))); err != nil {
				t.Skipf("mknod: %v", err)
			}
			return "zero"
		}, MaxInfoPlist, ErrNotRegular, "refused: a character device, not a regular file"},
	}
}

func TestReadFileRefusesUnix(t *testing.T) { runHostile(t, unixCases()) }

// TestUserPathRefusesSpecial: a path the user gave (--profile, --roots, a policy) is opened
// as given, but a device, a FIFO or a link to one is refused all the same.
func TestUserPathRefusesSpecial(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "profile.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	zero := filepath.Join(dir, "policy.json")
	symlink(t, "/dev/zero", zero)
	for _, tc := range []struct{ path, reason string }{
		{fifo, "refused: a named pipe (FIFO), not a regular file"},
		{zero, "refused: a character device, not a regular file"},
		{"/dev/null", "refused: a character device, not a regular file"},
		{dir, "refused: a directory, not a regular file"},
	} {
		within(t, func() {
			_, err := ReadFile("", tc.path, MaxPolicy)
			require.ErrorIs(t, err, ErrNotRegular)
			assert.Equal(t, tc.path+": "+tc.reason, err.Error())
		})
	}
}

// TestProcFileSizeZero: files of /proc say they are empty and then yield data; the cap holds
// on what is read, not on what fstat said.
func TestProcFileSizeZero(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("linux /proc")
	}
	within(t, func() {
		_, err := ReadFile("", "/proc/self/maps", 16)
		require.ErrorIs(t, err, ErrTooLarge)
		assert.Equal(t, "/proc/self/maps: refused: grew while it was read, more than the 16 bytes allowed", err.Error())
		b, err := ReadFile("", "/proc/self/maps", MaxVersionFile)
		require.NoError(t, err)
		assert.NotEmpty(t, b)
	})
}

func TestFIFONotOpenedBlocking(t *testing.T) {
	// Opening through a FIFO-named link in a user path must not block either.
	dir := t.TempDir()
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "p"), 0o644))
	within(t, func() {
		f, err := Open(dir, "p", 10)
		require.ErrorIs(t, err, ErrNotRegular)
		assert.Nil(t, f)
	})
	_ = os.Remove(filepath.Join(dir, "p"))
}
