package edrpolicy

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/internal/safetext"
)

// GuardrailError lists the rules refused before they reach a policy or a vendor file: path
// rules the guardrails refuse (FindingGuardrail), executable rules over a folder
// (FindingExecutableFolder), and, when vendor files are written (Policy.RefusalsWith), rules
// that allow an interpreter (FindingInterpreter) or name a risky signer (FindingRiskySigner).
// DecideOptions.Force and the exporters' Options.Force turn each refusal that may be
// overridden into a warning; an executable folder rule is refused even then (Forcible).
type GuardrailError struct {
	Refusals []Refusal
}

// Refusal is one rule refused, with the reason.
type Refusal struct {
	// ID is the check finding id of the refusal: FindingGuardrail (a path the guardrails
	// refuse), FindingExecutableFolder (an executable rule over a folder), FindingInterpreter
	// or FindingRiskySigner.
	ID string `json:"id"`
	// Path is the path rule's value, or the file an interpreter or risky-signer rule covers.
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Forcible reports whether every refusal in e may be overridden (Force).
func (e *GuardrailError) Forcible() bool {
	for _, r := range e.Refusals {
		if r.ID == FindingExecutableFolder {
			return false
		}
	}
	return true
}

// Error lists the refusals, one per line; paths and reasons are escaped (safetext.Escape) so
// that a crafted path cannot rewrite the terminal or add lines of its own.
func (e *GuardrailError) Error() string {
	var b strings.Builder
	what := "path rule(s)"
	for _, r := range e.Refusals {
		if r.ID == FindingInterpreter || r.ID == FindingRiskySigner {
			what = "rule(s)"
		}
	}
	fmt.Fprintf(&b, "refused %d %s:", len(e.Refusals), what)
	forcible, never, risk := false, false, false
	for _, r := range e.Refusals {
		fmt.Fprintf(&b, "\n  %s: %s", safetext.Escape(r.Path), safetext.Escape(r.Reason))
		switch r.ID {
		case FindingExecutableFolder:
			never = true
		case FindingInterpreter, FindingRiskySigner:
			risk = true
		default:
			forcible = true
		}
	}
	if risk {
		b.WriteString("\nremove the rule, or force it to be written with a warning")
	}
	if forcible {
		b.WriteString("\nnarrow the path (a profile file, or the hash or signer level), or force it to be kept with a warning")
	}
	if never {
		b.WriteString("\nexecutable folder rules are refused even when forced: use hash or signer rules, or exact file paths")
	}
	return b.String()
}

// GuardrailOptions add to the pure judgment of path rules a check of a machine's file system,
// given as a callback so that the caller decides which machine, if any, is asked (a test
// passes a fake). The zero value judges by the path alone and does no I/O, as a library user
// on any machine gets it; HostGuardrails is the CLI's check of the machine it runs on.
type GuardrailOptions struct {
	// HostOS is the platform (windows, mac, linux) of this machine. HostCheck is called only
	// for rules of that platform: a path judged for another OS says nothing about this
	// machine's folders.
	HostOS profile.OS
	// HostCheck, when not nil, is called with each normalized form (without wildcards) of a
	// path the guardrails accept, in the value's own spelling, and returns a refusal reason
	// or "".
	HostCheck func(path string) string
}

// HostGuardrails returns the options the CLI uses: rules for this machine's platform are also
// refused when they name an existing world-writable folder here (HostWorldWritable, which
// stats it). Rules of another platform are never checked, so a macOS path judged on Linux
// gets the pure judgment. On a platform that is not windows, darwin or linux it returns the
// zero value.
func HostGuardrails() GuardrailOptions {
	host := map[string]profile.OS{"windows": profile.OSWindows, "darwin": profile.OSMac, "linux": profile.OSLinux}[runtime.GOOS]
	if host == "" {
		return GuardrailOptions{}
	}
	return GuardrailOptions{HostOS: host, HostCheck: HostWorldWritable}
}

// HostWorldWritable returns "a world-writable folder on this machine" when p is an existing
// folder on this machine that any user may write to, else "".
func HostWorldWritable(p string) string {
	fi, err := os.Stat(p)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o002 == 0 {
		return ""
	}
	return "a world-writable folder on this machine"
}

// CheckPathRule returns why a path rule over value, for platform os, must be refused, or ""
// when it is acceptable: JudgePathRule without a host check. It reads no file system.
func CheckPathRule(os profile.OS, value string) string {
	return JudgePathRule(os, value, GuardrailOptions{})
}

// JudgePathRule normalizes value for platform (see NormalizePathRule) and applies the
// guardrails to every folder it can name; it returns why the rule must be refused, or "".
// A value that cannot be normalized is refused with the reason. The guardrails refuse: drive,
// volume and file-system roots; the whole of Program Files, Common Files, Windows and its
// system folders, ProgramData, /Applications, /Library, /System, /usr, /usr/local, /opt and
// similar system folders; user-profile roots and their AppData, Library, Downloads, Desktop
// and Documents; temp and world-writable folders and everything beneath them; any folder
// above one of those; a bare wildcard as the last segment; a wildcard that can name one of
// those folders; a wildcard where an application's folder name belongs below Program Files,
// /Applications and the other shared folders (C:\Program Files\*\x, /Applications/*.app).
// Every Decide, Check and export judgment goes through it.
func JudgePathRule(platform profile.OS, value string, g GuardrailOptions) string {
	forms, why := normalizeRule(platform, value)
	if why != "" {
		return why
	}
	table := guardTables[platform]
	for _, f := range forms {
		if why := judgeForm(f, table); why != "" {
			return why + judgedAs(platform, value, f, len(forms))
		}
	}
	if g.HostCheck != nil && g.HostOS == platform {
		for _, f := range forms {
			if f.hasWildcard() {
				continue
			}
			if why := g.HostCheck(f.written()); why != "" {
				return why
			}
		}
	}
	return ""
}

// judgedAs names the form that was refused when it is not simply the value in another case.
func judgedAs(platform profile.OS, value string, f pathForm, n int) string {
	naive := strings.TrimSpace(value)
	if platform == profile.OSWindows {
		naive = strings.ReplaceAll(naive, "/", `\`)
		naive = strings.TrimRight(foldString(naive), `\`)
		naive = strings.ReplaceAll(naive, "<user>", "*")
		if len(naive) == 2 {
			naive += `\`
		}
	} else {
		if platform == profile.OSMac {
			naive = foldString(naive)
		}
		if naive != "/" {
			naive = strings.TrimRight(naive, "/")
		}
	}
	if n == 1 && f.String() == naive {
		return ""
	}
	return " (judged as " + f.String() + ")"
}

const bareWildcard = "a bare wildcard (it trusts every file there)"

// guardKind says what of a protected folder is refused.
type guardKind int

const (
	// guardBroad: the folder itself (and, like every entry, any folder above it).
	guardBroad guardKind = iota
	// guardUnder: the folder and everything beneath it.
	guardUnder
)

// guardEntry is one protected folder. In keys, "*" is any one segment (a user name).
type guardEntry struct {
	disp   string
	keys   []string
	kind   guardKind
	reason string
	// container: a wildcard in the segment right below it can name other applications'
	// folders (C:\Program Files\*\x). profiles: it is a folder of user profiles, whose "*"
	// segment stands for every user.
	container, profiles bool
	// sharedAt is the index of the segment of a shared profile folder (C:\Users\Public,
	// /Users/Shared), which a rule's "*" user-name segment does not stand for; -1 if none.
	sharedAt int
}

// judgeForm applies the protected folders of one platform to one normalized form.
func judgeForm(f pathForm, table []guardEntry) string {
	n := len(f.keys)
	if n == 0 {
		if f.windows {
			return "a drive root"
		}
		return "the file system root"
	}
	for _, e := range table {
		if e.kind == guardBroad && slices.Equal(f.keys, e.keys) {
			return e.reason
		}
	}
	if strings.Trim(f.keys[n-1], "*?") == "" {
		return bareWildcard
	}
	for _, e := range table {
		if e.kind == guardBroad && n == len(e.keys) && meets(f, e, n) {
			return e.reason + canName(f, e, n)
		}
	}
	for _, e := range table {
		if e.kind == guardUnder && n >= len(e.keys) && meets(f, e, len(e.keys)) {
			return e.reason + canName(f, e, len(e.keys))
		}
	}
	if isWild(f.keys[0]) {
		return "a wildcard in a top-level folder name: it can name system folders"
	}
	for _, e := range table {
		m := len(e.keys)
		if !e.container || n <= m || !isWild(f.keys[m]) || !meets(f, e, m) {
			continue
		}
		if !e.profiles {
			return fmt.Sprintf("a wildcard where an application's folder name belongs, below %s: it can name other applications' folders", e.disp)
		}
		if f.keys[m] != "*" {
			return fmt.Sprintf("a partial wildcard in the user-name segment below %s: write * (every user) or the user's name", e.disp)
		}
	}
	for _, e := range table {
		if n < len(e.keys) && meets(f, e, n) {
			return fmt.Sprintf("a folder above %s (%s)", e.disp, e.reason)
		}
	}
	return ""
}

// meets reports whether the first k segments of f can name the first k of e.
func meets(f pathForm, e guardEntry, k int) bool {
	for i := 0; i < k; i++ {
		r, p := f.keys[i], e.keys[i]
		if i == e.sharedAt && r == "*" {
			return false
		}
		if p != "*" && !globMatch1(r, p) {
			return false
		}
	}
	return true
}

// canName says that the form's wildcards are what names the protected folder.
func canName(f pathForm, e guardEntry, k int) string {
	for i := 0; i < k; i++ {
		if isWild(f.keys[i]) && e.keys[i] != "*" {
			return " (its wildcards can name " + e.disp + ")"
		}
	}
	return ""
}

func isWild(s string) bool { return strings.ContainsAny(s, "*?[") }

// globMatch1 matches one segment pattern (* any run, ? one character, [...] one character:
// bracket classes are taken as wide as they could be) against a name.
func globMatch1(pattern, name string) bool {
	p, n := []rune(pattern), []rune(name)
	pi, ni, star, mark := 0, 0, -1, 0
	for ni < len(n) {
		if pi < len(p) {
			switch {
			case p[pi] == '*':
				star, mark = pi, ni
				pi++
				continue
			case p[pi] == '?' || p[pi] == n[ni]:
				pi++
				ni++
				continue
			case p[pi] == '[':
				if end := indexRune(p[pi:], ']'); end > 0 {
					pi += end + 1
					ni++
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		pi, mark = star+1, mark+1
		ni = mark
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func indexRune(rs []rune, r rune) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

// Reasons shared by several entries.
const (
	whyProgramFiles = "the whole of Program Files"
	whyCommonFiles  = "Common Files (components every application shares)"
	whySystemFolder = "the Windows system folder"
	whyProfileRoot  = "a user-profile root"
	whyAppData      = "a user-profile AppData root"
	whyPrograms     = "the per-user Programs folder (every per-user app)"
	whyTemp         = "a temp folder"
	whyWinWritable  = "a folder under Windows that standard users can write to"
	whyStartup      = "a startup folder (what lands there runs at logon)"
	whyUnixTemp     = "a temp and world-writable folder"
	whyVolume       = "a volume root"
	whySysBin       = "a system binary folder"
	whyLogs         = "all system logs"
)

// entry kinds for the table literals below.
const (
	eBroad     = iota // the folder itself
	eContainer        // the folder, and a wildcard for the folder below it
	eProfiles         // a folder of user profiles (container; "*" below it is every user)
	eUnder            // the folder and everything beneath it
)

type guardSpec struct {
	path   string
	kind   int
	reason string
}

// windowsGuards are the protected Windows folders, judged on every drive. The folders under
// C:\Windows that standard users can write to are those of api0cradle's
// UltimateAppLockerByPassList, Generic-AppLockerbypasses.md (Windows 10 1803); the temp
// folders are those of learn.microsoft.com "Common mistakes to avoid when defining
// exclusions".
var windowsGuards = []guardSpec{
	{`C:\Program Files`, eContainer, whyProgramFiles},
	{`C:\Program Files (x86)`, eContainer, whyProgramFiles},
	{`C:\Program Files (Arm)`, eContainer, whyProgramFiles},
	{`C:\Program Files\Common Files`, eContainer, whyCommonFiles},
	{`C:\Program Files (x86)\Common Files`, eContainer, whyCommonFiles},
	{`C:\Program Files (Arm)\Common Files`, eContainer, whyCommonFiles},
	{`C:\Program Files\WindowsApps`, eContainer, "every Store app"},
	{`C:\Windows`, eContainer, "the Windows folder"},
	{`C:\Windows\System32`, eContainer, whySystemFolder},
	{`C:\Windows\SysWOW64`, eContainer, whySystemFolder},
	{`C:\Windows\System32\drivers`, eContainer, "the Windows drivers folder"},
	{`C:\Windows\WinSxS`, eContainer, "the Windows component store"},
	{`C:\Windows\System32\config\systemprofile`, eContainer, "the SYSTEM account's profile"},
	{`C:\Windows\SysWOW64\config\systemprofile`, eContainer, "the SYSTEM account's profile"},
	{`C:\Windows\ServiceProfiles`, eContainer, "the service accounts' profiles"},
	{`C:\Windows\ServiceProfiles\*`, eContainer, "a service account's profile"},
	{`C:\ProgramData`, eContainer, "ProgramData: any user may create folders in it (world-writable)"},
	{`C:\Users`, eProfiles, "the folder of all user profiles"},
	{`C:\Users\*`, eContainer, whyProfileRoot},
	{`C:\Users\*\AppData`, eContainer, whyAppData},
	{`C:\Users\*\AppData\Local`, eContainer, whyAppData},
	{`C:\Users\*\AppData\Roaming`, eContainer, whyAppData},
	{`C:\Users\*\AppData\LocalLow`, eContainer, whyAppData},
	{`C:\Users\*\AppData\Local\Programs`, eContainer, whyPrograms},
	{`C:\Users\*\AppData\Roaming\Programs`, eContainer, whyPrograms},
	{`C:\Users\*\AppData\Local\Microsoft\WindowsApps`, eBroad, "the per-user app execution aliases"},
	{`C:\Users\*\AppData\Local\Packages`, eContainer, "every Store app's data"},
	{`C:\Users\*\Documents`, eBroad, "a user's documents"},
	{`C:\Users\*\Downloads`, eUnder, "a user's downloads (world of untrusted files)"},
	{`C:\Users\*\Desktop`, eUnder, "a user's desktop (where users drop files)"},
	{`C:\System Volume Information`, eBroad, "the volume's system folder"},
	{`C:\$Recycle.Bin`, eUnder, "the recycle bin"},
	{`C:\Windows\Temp`, eUnder, whyTemp},
	{`C:\Windows\SystemTemp`, eUnder, whyTemp},
	{`C:\Temp`, eUnder, whyTemp},
	{`C:\Tmp`, eUnder, whyTemp},
	{`C:\Users\*\AppData\Local\Temp`, eUnder, whyTemp},
	{`C:\Users\*\AppData\LocalLow\Temp`, eUnder, whyTemp},
	{`C:\Users\*\AppData\Roaming\Temp`, eUnder, whyTemp},
	{`C:\Windows\System32\config\systemprofile\AppData\Local\Temp`, eUnder, whyTemp},
	{`C:\Windows\SysWOW64\config\systemprofile\AppData\Local\Temp`, eUnder, whyTemp},
	{`C:\Windows\ServiceProfiles\*\AppData\Local\Temp`, eUnder, whyTemp},
	{`C:\Users\Public`, eUnder, `a world-writable folder (C:\Users\Public)`},
	{`C:\Windows\Tasks`, eUnder, whyWinWritable},
	{`C:\Windows\tracing`, eUnder, whyWinWritable},
	{`C:\Windows\Registration\CRMLog`, eUnder, whyWinWritable},
	{`C:\Windows\System32\FxsTmp`, eUnder, whyWinWritable},
	{`C:\Windows\System32\com\dmp`, eUnder, whyWinWritable},
	{`C:\Windows\System32\Microsoft\Crypto\RSA\MachineKeys`, eUnder, whyWinWritable},
	{`C:\Windows\System32\spool\PRINTERS`, eUnder, whyWinWritable},
	{`C:\Windows\System32\spool\SERVERS`, eUnder, whyWinWritable},
	{`C:\Windows\System32\spool\drivers\color`, eUnder, whyWinWritable},
	{`C:\Windows\System32\Tasks`, eUnder, whyWinWritable},
	{`C:\Windows\System32\Tasks_Migrated`, eUnder, whyWinWritable},
	{`C:\Windows\SysWOW64\FxsTmp`, eUnder, whyWinWritable},
	{`C:\Windows\SysWOW64\com\dmp`, eUnder, whyWinWritable},
	{`C:\Windows\SysWOW64\Tasks`, eUnder, whyWinWritable},
	{`C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp`, eUnder, whyStartup},
	{`C:\Users\*\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup`, eUnder, whyStartup},
}

// macGuards are the protected macOS folders (compared case-insensitively).
var macGuards = []guardSpec{
	{"/Applications", eContainer, "the whole of /Applications"},
	{"/Applications/Utilities", eContainer, "the whole of /Applications/Utilities"},
	{"/System", eContainer, "the macOS system folder"},
	{"/System/Library", eContainer, "the macOS system folder"},
	{"/System/Applications", eContainer, "the macOS system folder"},
	{"/System/Volumes", eContainer, "the macOS system volumes"},
	{"/Library", eContainer, "the whole of /Library"},
	{"/Library/Application Support", eContainer, "the whole of /Library/Application Support"},
	{"/Library/Caches", eContainer, "the whole of /Library/Caches"},
	{"/Library/Logs", eContainer, whyLogs},
	{"/Library/LaunchDaemons", eBroad, "every LaunchDaemon"},
	{"/Library/LaunchAgents", eBroad, "every LaunchAgent"},
	{"/Library/Frameworks", eContainer, "every shared framework"},
	{"/Library/Extensions", eBroad, "every kernel extension"},
	{"/Library/SystemExtensions", eBroad, "every system extension"},
	{"/Library/PrivilegedHelperTools", eBroad, "every privileged helper tool"},
	{"/Library/Preferences", eBroad, "the system preferences"},
	{"/Library/StartupItems", eBroad, "every startup item"},
	{"/usr", eContainer, "the whole of /usr"},
	{"/usr/bin", eBroad, whySysBin},
	{"/usr/sbin", eBroad, whySysBin},
	{"/usr/lib", eContainer, "a system library folder"},
	{"/usr/libexec", eContainer, whySysBin},
	{"/usr/local", eContainer, "the whole of /usr/local"},
	{"/usr/local/bin", eBroad, "a shared binary folder"},
	{"/usr/local/sbin", eBroad, "a shared binary folder"},
	{"/usr/local/lib", eContainer, "a shared library folder"},
	{"/usr/local/Cellar", eContainer, "every Homebrew package"},
	{"/opt", eContainer, "the whole of /opt"},
	{"/opt/homebrew", eContainer, "the whole of Homebrew"},
	{"/opt/homebrew/bin", eBroad, "a shared binary folder"},
	{"/opt/homebrew/Cellar", eContainer, "every Homebrew package"},
	{"/bin", eBroad, whySysBin},
	{"/sbin", eBroad, whySysBin},
	{"/etc", eContainer, "the system configuration folder"},
	{"/var", eContainer, "the whole of /var"},
	{"/var/db", eContainer, "the system databases"},
	{"/var/log", eContainer, whyLogs},
	{"/var/root", eContainer, "root's home folder (a user-profile root)"},
	{"/private", eContainer, "the macOS /private folder"},
	{"/Volumes", eContainer, "every mounted volume"},
	{"/Volumes/*", eBroad, whyVolume},
	{"/Users", eProfiles, "the folder of all user profiles"},
	{"/Users/*", eContainer, whyProfileRoot},
	{"/Users/*/Library", eContainer, "a user's whole Library"},
	{"/Users/*/Library/Application Support", eContainer, "a user's whole Application Support"},
	{"/Users/*/Library/Caches", eContainer, "a user's whole Caches"},
	{"/Users/*/Library/Logs", eContainer, "a user's logs"},
	{"/Users/*/Library/LaunchAgents", eBroad, "a user's LaunchAgents"},
	{"/Users/*/Library/Containers", eContainer, "every app container of a user"},
	{"/Users/*/Library/Group Containers", eContainer, "every group container of a user"},
	{"/Users/*/Applications", eContainer, "a user's applications folder"},
	{"/Users/*/Downloads", eUnder, "a user's downloads (world of untrusted files)"},
	{"/Users/*/Desktop", eUnder, "a user's desktop (where users drop files)"},
	{"/Users/*/Documents", eBroad, "a user's documents"},
	{"/tmp", eUnder, whyUnixTemp},
	{"/var/tmp", eUnder, whyUnixTemp},
	{"/var/folders", eUnder, "a per-user temp folder"},
	{"/Users/Shared", eUnder, "a world-writable folder (/Users/Shared)"},
}

// linuxGuards are the protected Linux folders (compared case-sensitively).
var linuxGuards = []guardSpec{
	{"/usr", eContainer, "the whole of /usr"},
	{"/usr/bin", eBroad, whySysBin},
	{"/usr/sbin", eBroad, whySysBin},
	{"/usr/lib", eContainer, "a system library folder"},
	{"/usr/lib64", eContainer, "a system library folder"},
	{"/usr/libexec", eContainer, whySysBin},
	{"/usr/share", eContainer, "the whole of /usr/share"},
	{"/usr/local", eContainer, "the whole of /usr/local"},
	{"/usr/local/bin", eBroad, "a shared binary folder"},
	{"/usr/local/sbin", eBroad, "a shared binary folder"},
	{"/usr/local/lib", eContainer, "a shared library folder"},
	{"/usr/local/share", eContainer, "the whole of /usr/local/share"},
	{"/bin", eBroad, whySysBin},
	{"/sbin", eBroad, whySysBin},
	{"/lib", eContainer, "a system library folder"},
	{"/lib64", eContainer, "a system library folder"},
	{"/opt", eContainer, "the whole of /opt"},
	{"/etc", eContainer, "the system configuration folder"},
	{"/var", eContainer, "the whole of /var"},
	{"/var/lib", eContainer, "the whole of /var/lib"},
	{"/var/log", eContainer, whyLogs},
	{"/var/cache", eContainer, "the whole of /var/cache"},
	{"/var/opt", eContainer, "the whole of /var/opt"},
	{"/var/spool", eContainer, "the whole of /var/spool"},
	{"/srv", eContainer, "the whole of /srv"},
	{"/boot", eBroad, "the boot folder"},
	{"/proc", eBroad, "the process file system"},
	{"/sys", eBroad, "the kernel's file system"},
	{"/dev", eBroad, "the device folder"},
	{"/run", eContainer, "the runtime folder"},
	{"/snap", eContainer, "every snap package"},
	{"/snap/bin", eBroad, "a shared binary folder"},
	{"/home", eProfiles, "the folder of all user profiles"},
	{"/home/*", eContainer, whyProfileRoot},
	{"/root", eContainer, "root's home folder (a user-profile root)"},
	{"/home/*/Downloads", eUnder, "a user's downloads (world of untrusted files)"},
	{"/home/*/.local", eContainer, "a user's whole .local"},
	{"/home/*/.local/share", eContainer, "a user's whole .local/share"},
	{"/home/*/.local/bin", eBroad, "a user's binary folder"},
	{"/home/*/.cache", eContainer, "a user's whole cache"},
	{"/home/*/.config", eContainer, "a user's whole configuration"},
	{"/mnt", eContainer, "every mount point"},
	{"/mnt/*", eBroad, whyVolume},
	{"/media", eContainer, "every mounted medium"},
	{"/media/*", eBroad, whyVolume},
	{"/media/*/*", eBroad, whyVolume},
	{"/tmp", eUnder, whyUnixTemp},
	{"/var/tmp", eUnder, whyUnixTemp},
	{"/dev/shm", eUnder, "a world-writable folder"},
	{"/run/shm", eUnder, "a world-writable folder"},
	{"/run/lock", eUnder, "a world-writable folder"},
	{"/var/lock", eUnder, "a world-writable folder"},
	{"/var/crash", eUnder, "a world-writable folder"},
	{"/run/user", eUnder, "a per-user temp folder"},
}

// guardTables are the entries of each platform, built once from the specs (read-only).
var guardTables = map[profile.OS][]guardEntry{
	profile.OSWindows: buildGuards(profile.OSWindows, windowsGuards),
	profile.OSMac:     buildGuards(profile.OSMac, macGuards),
	profile.OSLinux:   buildGuards(profile.OSLinux, linuxGuards),
}

func buildGuards(platform profile.OS, specs []guardSpec) []guardEntry {
	out := make([]guardEntry, 0, len(specs))
	for _, s := range specs {
		var segs []string
		if platform == profile.OSWindows {
			segs = strings.Split(s.path[3:], `\`)
		} else {
			segs = strings.Split(s.path[1:], "/")
		}
		e := guardEntry{disp: s.path, keys: unixKeys(platform, segs), reason: s.reason, sharedAt: -1}
		if platform == profile.OSWindows {
			e.keys = foldAll(segs)
		}
		switch s.kind {
		case eUnder:
			e.kind = guardUnder
		case eContainer:
			e.container = true
		case eProfiles:
			e.container, e.profiles = true, true
		}
		if k := e.keys; len(k) == 2 && (k[0] == "users" && (k[1] == "public" || k[1] == "shared")) {
			e.sharedAt = 1
		}
		out = append(out, e)
	}
	return out
}

// rulePlatform is the platform a rule's path is judged for: the rule's, else the policy's.
func rulePlatform(r *Rule, policyOS profile.OS) profile.OS {
	if r.Platform != "" {
		return r.Platform
	}
	return policyOS
}

// PathRuleRefusals returns why rule r must not reach a vendor file: an executable rule over
// a folder (FindingExecutableFolder), a path the guardrails refuse (FindingGuardrail; see
// JudgePathRule, for the rule's platform, else policyOS). It returns nil for a rule that is
// not a path rule or that passes. Decide, Check, Policy.Refusals and the exporters all use it,
// so that they agree on every rule.
func PathRuleRefusals(r *Rule, policyOS profile.OS, g GuardrailOptions) []Refusal {
	if r.Criterion != CriterionPath {
		return nil
	}
	var out []Refusal
	if r.Role == profile.RoleExecutable && (r.Match == MatchFolder || r.Match == MatchSubfolders) {
		out = append(out, Refusal{ID: FindingExecutableFolder, Path: r.Value,
			Reason: fmt.Sprintf("executable path rule over a folder (%s, match %s): never allowed, it trusts whatever lands there; use hash or signer rules, or exact file paths", r.Value, r.Match)})
	}
	if why := JudgePathRule(rulePlatform(r, policyOS), r.Value, g); why != "" {
		out = append(out, Refusal{ID: FindingGuardrail, Path: r.Value, Reason: why})
	}
	return out
}

// Refusals judges the policy's rules as the exporters do before writing vendor files
// (RuleRefusals, without a host check, with the embedded risky-signer and interpreter lists)
// and returns the refusals, or nil when there are none. The policy's own warnings do not
// count: a guardrail-forced warning is a record of what a forced decision did, and anyone can
// write one into a policy, so only the caller that writes vendor files can override a refusal
// (the exporters' Options.Force). See RefusalsWith.
func (p *Policy) Refusals() *GuardrailError {
	return p.RefusalsWith(RefusalOptions{})
}

// RefusalsWith is Refusals with a host check and the caller's lists (RefusalOptions). The
// exporters call it, so that a policy edited by hand cannot carry a drive root, a temp folder,
// a folder of executables, an interpreter or a risky signer into a vendor file.
func (p *Policy) RefusalsWith(o RefusalOptions) *GuardrailError {
	var ge GuardrailError
	for i := range p.Rules {
		ge.Refusals = append(ge.Refusals, RuleRefusals(&p.Rules[i], p.OS, o)...)
	}
	if len(ge.Refusals) == 0 {
		return nil
	}
	return &ge
}
