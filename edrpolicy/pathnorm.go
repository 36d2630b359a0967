package edrpolicy

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// Bounds of what the path judge accepts to look at; a longer value is refused, not judged.
const (
	// maxPathValue is the longest value judged: Windows' own limit for a \\?\ path.
	maxPathValue = 32767
	// maxPathSegments is the most folder levels judged.
	maxPathSegments = 256
	// maxPathForms is the most folders one value may expand to (environment variables and
	// aliases multiply them).
	maxPathForms = 64
)

// pathForm is one folder (or file) a path rule value can name on its platform, normalized:
// separators unified, "." and empty segments dropped, ".." resolved, environment variables
// expanded, aliases (junctions, firmlinks, symbolic links of the system) replaced by their
// target. segs keep the spelling of the value (for host checks and messages); keys are the
// segments in the form compared (case-folded on Windows and macOS).
type pathForm struct {
	windows bool
	drive   string // Windows: the drive letter, upper case; "" on macOS and Linux
	segs    []string
	keys    []string
}

// String is the canonical spelling of the form: keys joined under the root ("c:\a\b",
// "/a/b"). NormalizePathRule returns these, and normalizing one gives it back.
func (f pathForm) String() string {
	if f.windows {
		return strings.ToLower(f.drive) + `:\` + strings.Join(f.keys, `\`)
	}
	return "/" + strings.Join(f.keys, "/")
}

// written is the form in the value's own spelling (case kept), for host checks.
func (f pathForm) written() string {
	if f.windows {
		return f.drive + `:\` + strings.Join(f.segs, `\`)
	}
	return "/" + strings.Join(f.segs, "/")
}

func (f pathForm) hasWildcard() bool {
	for _, s := range f.keys {
		if isWild(s) {
			return true
		}
	}
	return false
}

// NormalizePathRule returns the folders (or files) a path rule's value can name on platform
// (windows, mac or linux: the rule's platform, not this machine's), each in canonical form,
// or a non-empty reason why the value cannot be judged (and is therefore refused). The
// normalization is lexical and pure: it reads no file system.
//
// On Windows: '/' and '\' are both separators; doubled separators, "." segments and trailing
// separators are dropped and ".." is resolved (one that climbs above the drive root is
// refused); trailing dots and spaces of a segment are dropped as Win32 drops them; the
// comparison form is case-folded. Environment variables the guardrails know are expanded to
// every folder they can name (%ProgramFiles% is C:\Program Files, and C:\Program Files (x86)
// in a 32-bit process, and C:\Program Files (Arm)); any other variable is refused. Drive
// letters do not matter to the judgment (protected folders are judged on every drive), so a
// variable naming "the system drive" expands to C:. 8.3 short names (PROGRA~1), device and
// UNC forms (\\?\, \\.\, \??\, \\host\share, admin shares, \Device\...), alternate data
// streams, DOS device names and characters Win32 does not allow are refused. The
// compatibility junctions (C:\Documents and Settings, C:\Users\All Users, Application Data,
// ...) are judged as their targets.
//
// On macOS (case-folded) and Linux (case-sensitive): the path must be absolute; "." and
// doubled separators are dropped; ".." is resolved both lexically and through the system's
// own symbolic links (/tmp, /var, /etc on macOS; /bin, /lib, /var/run... on Linux), and both
// results are judged. On macOS the firmlinked /System/Volumes/Data/... spellings are judged as
// the folder they show at /, /private/{var,tmp,etc} as /{var,tmp,etc}, and /Volumes/NAME/...
// also as /... (the boot volume's own link). $HOME, ${HOME} and a leading ~ expand to every
// user's home and root's; $TMPDIR to the temp folders; any other variable, shell expansion or
// ~user is refused.
//
// Everywhere: "**" (a recursive wildcard) and NUL are refused; "*" and "?" stand within one
// segment (Defender's documented semantics; Falcon's are UNCONFIRMED); a "*" user-name segment
// (C:\Users\*\..., /Users/*/...) stands for every user's own profile.
func NormalizePathRule(platform profile.OS, value string) ([]string, string) {
	forms, why := normalizeRule(platform, value)
	if why != "" {
		return nil, why
	}
	out := make([]string, len(forms))
	for i, f := range forms {
		out[i] = f.String()
	}
	return out, ""
}

func normalizeRule(platform profile.OS, value string) ([]pathForm, string) {
	v := strings.TrimSpace(value)
	switch {
	case v == "":
		return nil, "empty path"
	case len(v) > maxPathValue:
		return nil, fmt.Sprintf("a path longer than %d bytes (not judged)", maxPathValue)
	case strings.ContainsRune(v, 0):
		return nil, "a NUL character in the path (a vendor may cut the path there)"
	}
	switch platform {
	case profile.OSWindows:
		return normalizeWindows(v)
	case profile.OSMac, profile.OSLinux:
		return normalizeUnix(platform, v)
	}
	return nil, fmt.Sprintf("platform %q is not windows, mac or linux: the path cannot be judged", platform)
}

// appendForm adds f unless an identical form is there already.
func appendForm(list []pathForm, f pathForm) []pathForm {
	s := f.String()
	for _, g := range list {
		if g.String() == s {
			return list
		}
	}
	return append(list, f)
}

// cleanSegments splits rest on sep, drops empty and "." segments and resolves "..";
// resolve, when not nil, is called after each segment is pushed and may replace the stack (a
// symbolic link of the system). Spaces at either end of a segment are dropped, and on Windows
// (win) trailing dots too, as Win32 drops them: the judgment then errs towards refusing. A
// segment left empty, or reading "." or ".." only once trimmed, is refused.
func cleanSegments(rest, sep string, win bool, resolve func([]string) []string) ([]string, string) {
	var stack []string
	for _, s := range strings.Split(rest, sep) {
		if s != "." && s != ".." {
			t := strings.TrimSpace(s)
			if win {
				t = strings.TrimRightFunc(t, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
			}
			switch {
			case t == "" && s != "":
				return nil, fmt.Sprintf("a segment of only dots or spaces (%q): systems and vendors read it differently", s)
			case t == "." || t == "..":
				return nil, fmt.Sprintf("a segment that reads %q once trimmed (%q)", t, s)
			}
			s = t
		}
		switch s {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return nil, `".." climbs above the root`
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if strings.Contains(s, "**") {
			return nil, "a recursive wildcard (**): use match subfolders instead"
		}
		stack = append(stack, s)
		if resolve != nil {
			stack = resolve(stack)
		}
		if len(stack) > maxPathSegments {
			return nil, fmt.Sprintf("more than %d folder levels (not judged)", maxPathSegments)
		}
	}
	return stack, ""
}

// ---- Windows ----

// winVars are the environment variables the guardrails expand, to every folder each can name
// in the processes of an EDR agent or a user (drive letters do not matter to the judgment:
// see NormalizePathRule). Sources: learn.microsoft.com, "Configure and validate exclusions
// based on file extension and folder location", table "System environment variables"
// (%USERPROFILE% and %LOCALAPPDATA% of the system account are under
// C:\Windows\System32\config\systemprofile); "WOW64 Implementation Details" (in a 32-bit
// process %ProgramFiles% and %CommonProgramFiles% name the (x86) folders; ProgramW6432 and
// CommonProgramW6432 the 64-bit ones); the Arm64 Program Files (Arm) folder. %HOMEPATH% is \
// when the home folder is a drive root (a mapped home drive). Every other variable is
// refused.
var winVars = func() map[string][]string {
	profiles := []string{`C:\Users\*`, `C:\Windows\System32\config\systemprofile`, `C:\Windows\SysWOW64\config\systemprofile`,
		`C:\Windows\ServiceProfiles\LocalService`, `C:\Windows\ServiceProfiles\NetworkService`}
	under := func(bases []string, sub string) []string {
		out := make([]string, len(bases))
		for i, b := range bases {
			out[i] = b + sub
		}
		return out
	}
	pf := []string{`C:\Program Files`, `C:\Program Files (x86)`, `C:\Program Files (Arm)`}
	temps := append([]string{`C:\Windows\Temp`, `C:\Windows\SystemTemp`}, under(profiles, `\AppData\Local\Temp`)...)
	return map[string][]string{
		"systemdrive":             {`C:`},
		"homedrive":               {`C:`},
		"systemroot":              {`C:\Windows`},
		"windir":                  {`C:\Windows`},
		"programfiles":            pf,
		"programfiles(x86)":       {`C:\Program Files (x86)`},
		"programfiles(arm)":       {`C:\Program Files (Arm)`},
		"programw6432":            {`C:\Program Files`},
		"commonprogramfiles":      under(pf, `\Common Files`),
		"commonprogramfiles(x86)": {`C:\Program Files (x86)\Common Files`},
		"commonprogramfiles(arm)": {`C:\Program Files (Arm)\Common Files`},
		"commonprogramw6432":      {`C:\Program Files\Common Files`},
		"programdata":             {`C:\ProgramData`},
		"allusersprofile":         {`C:\ProgramData`},
		"public":                  {`C:\Users\Public`},
		"userprofile":             profiles,
		"homepath":                {`\`, `\Users\*`, `\Windows\System32`},
		"localappdata":            under(profiles, `\AppData\Local`),
		"appdata":                 under(profiles, `\AppData\Roaming`),
		"temp":                    temps,
		"tmp":                     temps,
		"systemtemp":              {`C:\Windows\SystemTemp`},
	}
}()

// bestFit are characters that Windows' "best fit" conversion to some ANSI code pages turns
// into path syntax (＼ ／ ¥ ₩ ∕ to a separator, ： to ':', ． to '.'): an agent reading the
// value through an ANSI API would see another path. Source: Orange Tsai and Splitline,
// "WorstFit: Unveiling Hidden Transformers in Windows ANSI" (2025).
const bestFit = "\uff3c\uff0f\u00a5\u20a9\u2215\uff1a\uff0e"

func normalizeWindows(v string) ([]pathForm, string) {
	if strings.ContainsAny(v, bestFit) {
		return nil, "a character some Windows code pages read as a separator, ':' or '.' (best-fit mapping): write the path in plain characters"
	}
	v = strings.ReplaceAll(v, "/", `\`)
	exps, why := expandWindowsVars(v)
	if why != "" {
		return nil, why
	}
	var out []pathForm
	for _, e := range exps {
		f, why := parseWindows(e)
		if why != "" {
			if e != v {
				why += " (in " + e + ", which " + v + " can name)"
			}
			return nil, why
		}
		out = appendForm(out, f)
	}
	return out, ""
}

// expandWindowsVars replaces each %NAME% by every value winVars gives it (all combinations);
// an unknown name is refused. A lone '%' is a character.
func expandWindowsVars(v string) ([]string, string) {
	outs := []string{""}
	for {
		i := strings.IndexByte(v, '%')
		if i < 0 {
			break
		}
		j := strings.IndexByte(v[i+1:], '%')
		if j < 0 {
			break
		}
		name := v[i+1 : i+1+j]
		if name == "" {
			return nil, `"%%" in the path: an environment-variable form the guardrails cannot judge`
		}
		vals, ok := winVars[foldString(name)]
		if !ok {
			return nil, fmt.Sprintf("the environment variable %%%s%% is not one the guardrails expand and judge: write the folder it stands for", name)
		}
		next, why := expandForms(outs, v[:i], vals)
		if why != "" {
			return nil, why
		}
		outs, v = next, v[i+2+j:]
	}
	for k := range outs {
		outs[k] += v
	}
	return outs, ""
}

// expandForms appends literal and then each of a variable's values to every form so far: the
// forms a path with variables can take. Past maxPathForms the path is not judged.
func expandForms(outs []string, literal string, vals []string) ([]string, string) {
	var next []string
	for _, o := range outs {
		for _, x := range vals {
			next = append(next, o+literal+x)
		}
	}
	if len(next) > maxPathForms {
		return nil, fmt.Sprintf("environment variables that name more than %d folders together (not judged)", maxPathForms)
	}
	return next, ""
}

var (
	reShortName  = regexp.MustCompile(`~[0-9?*\[]`)
	reDOSDevice  = regexp.MustCompile(`^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)$`)
	reDriveAlpha = regexp.MustCompile(`^[A-Za-z]$`)
)

// parseWindows normalizes one expanded Windows value.
func parseWindows(e string) (pathForm, string) {
	f := pathForm{windows: true}
	if why := windowsRootForm(e); why != "" {
		return f, why
	}
	f.drive = strings.ToUpper(e[:1])
	segs, why := cleanSegments(e[2:], `\`, true, nil)
	if why != "" {
		return f, why
	}
	for i, s := range segs {
		if strings.EqualFold(s, "<user>") {
			segs[i] = "*"
			continue
		}
		if why := windowsSegment(s); why != "" {
			return f, why
		}
	}
	f.segs = segs
	f.keys = foldAll(segs)
	f.segs, f.keys = applyAliases(winAliases, f.segs, f.keys)
	return f, ""
}

// windowsRootForm refuses what is not "X:" followed by nothing or a separator: device, NT and
// UNC forms, relative and drive-relative paths, a wildcard drive letter.
func windowsRootForm(e string) string {
	low := strings.ToLower(e)
	switch {
	case strings.HasPrefix(low, `\\?\`), strings.HasPrefix(low, `\\.\`):
		return `a device path (\\?\ or \\.\): write the plain drive path`
	case strings.HasPrefix(low, `\\`):
		return `a UNC path (\\host\share): a network or admin-share spelling can name a local drive; write the local drive path`
	case strings.HasPrefix(low, `\??\`), strings.HasPrefix(low, `\device\`), strings.HasPrefix(low, `\global??\`), strings.HasPrefix(low, `\systemroot`):
		return `an NT object path (\??\, \Device\...): write the plain drive path`
	case len(e) < 2 || e[1] != ':':
		return "not an absolute path (no drive letter)"
	case e[0] == '*' || e[0] == '?':
		return "a wildcard in place of the drive letter"
	case !reDriveAlpha.MatchString(e[:1]):
		return "not an absolute path (no drive letter)"
	case len(e) > 2 && e[2] != '\\':
		return `a drive-relative path (C:name): write C:\name`
	}
	return ""
}

// windowsSegment refuses a segment Windows would read as something other than a name.
func windowsSegment(s string) string {
	low := foldString(s)
	switch {
	case strings.Contains(s, ":"):
		return "a ':' inside the path (an alternate data stream or a device)"
	case strings.ContainsAny(s, `<>"|`):
		return `a character Windows does not allow in names (< > " |)`
	case reShortName.MatchString(s):
		return "an 8.3 short name (" + s + "): write the long name"
	}
	base := low
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	if reDOSDevice.MatchString(strings.TrimRight(base, " ")) {
		return "a DOS device name (" + s + ")"
	}
	return ""
}

// alias maps a folder reached through a link to its target. A "*" in from matches any one
// segment and is copied to the same place in to.
type alias struct {
	from []string
	to   []string // in display spelling
}

// winAliases are the compatibility junctions Windows creates in every installation. Source:
// learn.microsoft.com, "Application Compatibility: Junction Points and Backup Applications"
// (Windows Vista and later).
var winAliases = []alias{
	{[]string{"documents and settings"}, []string{"Users"}},
	{[]string{"users", "all users"}, []string{"ProgramData"}},
	{[]string{"users", "default user"}, []string{"Users", "Default"}},
	{[]string{"programdata", "application data"}, []string{"ProgramData"}},
	{[]string{"programdata", "desktop"}, []string{"Users", "Public", "Desktop"}},
	{[]string{"programdata", "documents"}, []string{"Users", "Public", "Documents"}},
	{[]string{"programdata", "favorites"}, []string{"Users", "Public", "Favorites"}},
	{[]string{"programdata", "start menu"}, []string{"ProgramData", "Microsoft", "Windows", "Start Menu"}},
	{[]string{"programdata", "templates"}, []string{"ProgramData", "Microsoft", "Windows", "Templates"}},
	{[]string{"users", "*", "application data"}, []string{"Users", "*", "AppData", "Roaming"}},
	{[]string{"users", "*", "local settings"}, []string{"Users", "*", "AppData", "Local"}},
	{[]string{"users", "*", "appdata", "local", "application data"}, []string{"Users", "*", "AppData", "Local"}},
	{[]string{"users", "*", "my documents"}, []string{"Users", "*", "Documents"}},
	{[]string{"users", "*", "start menu"}, []string{"Users", "*", "AppData", "Roaming", "Microsoft", "Windows", "Start Menu"}},
	{[]string{"users", "*", "templates"}, []string{"Users", "*", "AppData", "Roaming", "Microsoft", "Windows", "Templates"}},
}

// applyAliases replaces, until none applies (at most a few rounds), a leading run of keys
// that matches an alias by the alias's target.
func applyAliases(list []alias, segs, keys []string) ([]string, []string) {
	for round := 0; round < 8; round++ {
		changed := false
		for _, a := range list {
			if len(keys) < len(a.from) || !aliasMatch(a.from, keys) {
				continue
			}
			var ns []string
			for i, t := range a.to {
				if t == "*" {
					t = segs[i] // aliases keep a "*" at the same place in from and to
				}
				ns = append(ns, t)
			}
			segs = append(ns, segs[len(a.from):]...)
			keys = foldAll(segs)
			changed = true
		}
		if !changed {
			break
		}
	}
	return segs, keys
}

func aliasMatch(from, keys []string) bool {
	for i, a := range from {
		if a != "*" && a != keys[i] {
			return false
		}
	}
	return true
}

// ---- macOS and Linux ----

// Links of the system, resolved when ".." is resolved physically. macOS: /tmp, /var, /etc are
// symbolic links into /private. Linux (merged /usr, systemd): /bin, /sbin, /lib, /lib64 into
// /usr, /var/run and /var/lock into /run, and /usr/tmp to /var/tmp where it exists.
var (
	macLinks = []alias{
		{[]string{"tmp"}, []string{"private", "tmp"}},
		{[]string{"var"}, []string{"private", "var"}},
		{[]string{"etc"}, []string{"private", "etc"}},
	}
	linuxLinks = []alias{
		{[]string{"bin"}, []string{"usr", "bin"}},
		{[]string{"sbin"}, []string{"usr", "sbin"}},
		{[]string{"lib"}, []string{"usr", "lib"}},
		{[]string{"lib64"}, []string{"usr", "lib64"}},
		{[]string{"var", "run"}, []string{"run"}},
		{[]string{"var", "lock"}, []string{"run", "lock"}},
		{[]string{"usr", "tmp"}, []string{"var", "tmp"}},
	}
)

// unixHome and unixTemp are what $HOME (and ~) and $TMPDIR can name.
var (
	unixHome = map[profile.OS][]string{profile.OSMac: {"/Users/*", "/var/root"}, profile.OSLinux: {"/home/*", "/root"}}
	unixTemp = map[profile.OS][]string{profile.OSMac: {"/var/folders/*/*/T/", "/tmp/"}, profile.OSLinux: {"/tmp/", "/tmp"}}
)

func normalizeUnix(platform profile.OS, v string) ([]pathForm, string) {
	exps, why := expandUnixVars(platform, v)
	if why != "" {
		return nil, why
	}
	var out []pathForm
	for _, e := range exps {
		if !strings.HasPrefix(e, "/") {
			return nil, "not an absolute path"
		}
		links := linuxLinks
		if platform == profile.OSMac {
			links = macLinks
		}
		for _, physical := range []bool{false, true} {
			var resolve func([]string) []string
			if physical {
				resolve = func(st []string) []string {
					s, _ := applyAliasesOnce(links, st, platform)
					return s
				}
			}
			segs, why := cleanSegments(e[1:], "/", false, resolve)
			if why != "" {
				return nil, why
			}
			for _, f := range unixForms(platform, segs) {
				for i, k := range f.keys {
					if k == "" || k == "." || k == ".." {
						return nil, fmt.Sprintf("a segment that reads %q without the characters macOS ignores in names (%q)", k, f.segs[i])
					}
				}
				out = appendForm(out, f)
			}
		}
		if len(out) > maxPathForms {
			return nil, fmt.Sprintf("a path that names more than %d folders (not judged)", maxPathForms)
		}
	}
	return out, ""
}

// applyAliasesOnce replaces st by a link's target when st is exactly the link.
func applyAliasesOnce(list []alias, st []string, platform profile.OS) ([]string, bool) {
	keys := unixKeys(platform, st)
	for _, a := range list {
		if len(keys) == len(a.from) && aliasMatch(a.from, keys) {
			return append([]string(nil), a.to...), true
		}
	}
	return st, false
}

// unixForms canonicalizes a cleaned macOS or Linux path: on macOS, firmlinked
// /System/Volumes/Data spellings and /private/{var,tmp,etc} become the folder at /, and a
// /Volumes/NAME/... path is also judged as /... (NAME may be the boot volume, a link to /).
func unixForms(platform profile.OS, segs []string) []pathForm {
	mk := func(s []string) pathForm { return pathForm{segs: s, keys: unixKeys(platform, s)} }
	if platform != profile.OSMac {
		return []pathForm{mk(segs)}
	}
strip:
	for {
		k := unixKeys(platform, segs)
		switch {
		case len(k) >= 3 && k[0] == "system" && k[1] == "volumes" && k[2] == "data":
			segs = segs[3:]
		case len(k) >= 2 && k[0] == "private" && (k[1] == "var" || k[1] == "tmp" || k[1] == "etc"):
			segs = segs[1:]
		default:
			break strip
		}
	}
	out := []pathForm{mk(segs)}
	if k := unixKeys(platform, segs); len(k) >= 3 && k[0] == "volumes" {
		out = append(out, unixForms(platform, segs[2:])...)
	}
	return out
}

// expandUnixVars expands a leading ~ and $HOME/${HOME}, $TMPDIR/${TMPDIR}; any other
// variable, ~user or shell expansion is refused.
func expandUnixVars(platform profile.OS, v string) ([]string, string) {
	if strings.HasPrefix(v, "~") {
		rest := v[1:]
		if rest != "" && rest[0] != '/' {
			return nil, "a ~user home reference: write the folder"
		}
		v = "${HOME}" + rest
	}
	outs := []string{""}
	for {
		i := strings.IndexByte(v, '$')
		if i < 0 || i == len(v)-1 {
			break
		}
		name, n, why := unixVarName(v[i+1:])
		if why != "" {
			return nil, why
		}
		if n == 0 {
			for k := range outs {
				outs[k] += v[:i+1]
			}
			v = v[i+1:]
			continue
		}
		var vals []string
		switch name {
		case "HOME":
			vals = unixHome[platform]
		case "TMPDIR":
			vals = unixTemp[platform]
		default:
			return nil, fmt.Sprintf("the environment variable $%s is not one the guardrails expand and judge: write the folder it stands for", name)
		}
		next, why := expandForms(outs, v[:i], vals)
		if why != "" {
			return nil, why
		}
		outs, v = next, v[i+1+n:]
	}
	for k := range outs {
		outs[k] += v
	}
	return outs, ""
}

// unixVarName reads the variable after a '$': its name and how many bytes it spans; n == 0
// when the '$' is a plain character.
func unixVarName(s string) (name string, n int, why string) {
	c := s[0]
	switch {
	case c == '{':
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", 0, "an unterminated ${ in the path"
		}
		return s[1:end], end + 1, ""
	case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		n = 1
		for n < len(s) && (s[n] == '_' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= 'a' && s[n] <= 'z' || s[n] >= '0' && s[n] <= '9') {
			n++
		}
		return s[:n], n, ""
	case c >= '0' && c <= '9', strings.IndexByte("()$?!#*@-", c) >= 0:
		return "", 0, "a shell expansion ($" + string(c) + "...) in the path"
	}
	return "", 0, ""
}

// ---- case folding ----

// hfsIgnorable are the code points HFS+ ignores when it compares names (so ".g\u200cit" is
// ".git"). Source: git, utf8.c next_hfs_char (CVE-2014-9390).
func hfsIgnorable(r rune) bool {
	switch {
	case r >= 0x200c && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x206a && r <= 0x206f, r == 0xfeff:
		return true
	}
	return false
}

func unixKeys(platform profile.OS, segs []string) []string {
	if platform != profile.OSMac {
		return append([]string(nil), segs...)
	}
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = foldString(strings.Map(func(r rune) rune {
			if hfsIgnorable(r) {
				return -1
			}
			return r
		}, s))
	}
	return out
}

func foldAll(segs []string) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = foldString(s)
	}
	return out
}

// foldString case-folds s for comparison on a case-insensitive file system: each rune maps
// to the lower case of the smallest member of its upper case's case-folding orbit, so that
// every spelling NTFS's upcase table or APFS's folding treats as equal (K and the Kelvin
// sign, s and the long s, I and the dotless i's upper case) compares equal. It may also fold
// together letters a file system keeps apart: the guardrails then refuse more, never less.
func foldString(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	return strings.Map(foldRune, s)
}

func foldRune(r rune) rune {
	u := unicode.ToUpper(r)
	m := u
	for f := unicode.SimpleFold(u); f != u; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	return unicode.ToLower(m)
}
