package fleet

import (
	"errors"
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// UserWildcard stands for the user-name folder in merged paths: C:\Users\*\..., /Users/*/...,
// /home/*/... (the spelling Decide gives a profile's per-user folders).
const UserWildcard = "*"

// endpointPath cleans an endpoint path reported by a host for platform: separators unified,
// empty and "." segments dropped, ".." resolved (one above the root is an error), the drive
// letter upper-cased on Windows, and the user-name segment of a user's home folder replaced
// by UserWildcard, so that every user's copy of a per-user install is one path. It returns
// the display spelling and the key that compares equal for every spelling the platform treats
// as the same file (edrpolicy.FoldPath).
func endpointPath(platform profile.OS, p string) (display, key string, err error) {
	switch {
	case p == "":
		return "", "", errors.New("empty path")
	case strings.IndexByte(p, 0) >= 0:
		return "", "", errors.New("a NUL character in the path")
	}
	var prefix, sep string
	var rest string
	switch platform {
	case profile.OSWindows:
		q := strings.ReplaceAll(p, "/", `\`)
		if len(q) < 3 || !isLetter(q[0]) || q[1] != ':' || q[2] != '\\' {
			return "", "", fmt.Errorf("path %q is not an absolute Windows path (X:\\...)", p)
		}
		prefix, sep, rest = strings.ToUpper(q[:1])+`:\`, `\`, q[3:]
	default:
		if !strings.HasPrefix(p, "/") {
			return "", "", fmt.Errorf("path %q is not absolute", p)
		}
		prefix, sep, rest = "/", "/", p[1:]
	}
	var segs []string
	for _, s := range strings.Split(rest, sep) {
		switch s {
		case "", ".":
		case "..":
			if len(segs) == 0 {
				return "", "", fmt.Errorf("path %q climbs above its root", p)
			}
			segs = segs[:len(segs)-1]
		default:
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 {
		return "", "", fmt.Errorf("path %q names a root, not a file", p)
	}
	foldUser(platform, segs)
	display = prefix + strings.Join(segs, sep)
	return display, edrpolicy.FoldPath(platform, display), nil
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// foldUser replaces the user-name segment of a path under the users' folder.
func foldUser(platform profile.OS, segs []string) {
	if len(segs) < 3 {
		return
	}
	home := map[profile.OS]string{profile.OSWindows: "users", profile.OSMac: "users", profile.OSLinux: "home"}[platform]
	if platform == profile.OSLinux && segs[0] == home || platform != profile.OSLinux && strings.EqualFold(segs[0], home) {
		segs[1] = UserWildcard
	}
}

// joinEndpoint joins an inspect record's root and relative path for platform.
func joinEndpoint(platform profile.OS, root, rel string) string {
	if root == "" {
		return rel
	}
	sep := "/"
	if platform == profile.OSWindows {
		sep = `\`
		rel = strings.ReplaceAll(rel, "/", `\`)
	}
	if rel == "" || rel == "." {
		return root
	}
	return strings.TrimRight(root, `/\`) + sep + rel
}

// folder is an executable folder (or file) of the profile's path table, as a merge key.
type folder struct {
	display string // the profile's path, user placeholders as UserWildcard
	key     string // its fold
	file    bool   // the row names a file, not a folder
	root    string // the root Decide sees for files under it (the bundle's parent for an .app)
}

// folderOf makes a folder from a profile path row.
func folderOf(platform profile.OS, r profile.PathRow) (folder, bool) {
	p := edrpolicy.ExpandUserPath(platform, r.Path)
	display, key, err := endpointPath(platform, p)
	if err != nil {
		return folder{}, false
	}
	f := folder{display: display, key: key, file: r.Kind == "file", root: display}
	if platform == profile.OSMac && strings.HasSuffix(key, ".app") {
		if i := strings.LastIndexByte(display, '/'); i > 0 {
			f.root = display[:i]
		}
	}
	if f.file {
		f.root = dirOf(platform, display)
	}
	return f, true
}

// contains reports whether the path key lies in (or is) the folder.
func (f folder) contains(platform profile.OS, key string) bool {
	if key == f.key {
		return true
	}
	if f.file {
		return false
	}
	sep := "/"
	if platform == profile.OSWindows {
		sep = `\`
	}
	return strings.HasPrefix(key, f.key+sep)
}

func dirOf(platform profile.OS, display string) string {
	sep := byte('/')
	if platform == profile.OSWindows {
		sep = '\\'
	}
	i := strings.LastIndexByte(display, sep)
	if i <= 0 {
		return display
	}
	if platform == profile.OSWindows && i == 2 {
		return display[:3]
	}
	return display[:i]
}

// splitRoot splits a path under root into root and the slash-separated rest, by segments
// (the path's spelling may differ from the root's in case, and case folding may change byte
// lengths).
func splitRoot(platform profile.OS, root, display string) (string, string) {
	sep := "/"
	if platform == profile.OSWindows {
		sep = `\`
	}
	n := len(strings.Split(strings.TrimRight(root, sep), sep))
	segs := strings.Split(display, sep)
	if n >= len(segs) {
		return root, ""
	}
	return root, strings.Join(segs[n:], "/")
}
