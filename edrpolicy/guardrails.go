package edrpolicy

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// GuardrailError lists the path rules that a guardrail refused. DecideOptions.Force turns each
// refusal into a warning recorded in the policy instead.
type GuardrailError struct {
	Refusals []Refusal
}

// Refusal is one path a guardrail refused, with the reason.
type Refusal struct {
	Path   string
	Reason string
}

func (e *GuardrailError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "refused %d path rule(s):", len(e.Refusals))
	for _, r := range e.Refusals {
		fmt.Fprintf(&b, "\n  %s: %s", r.Path, r.Reason)
	}
	b.WriteString("\nnarrow the path (a profile file or --level hash|signer), or give --force to record the rule with a warning")
	return b.String()
}

var (
	reDriveRoot = regexp.MustCompile(`^[a-z]:\\?$`)
	reUNCRoot   = regexp.MustCompile(`^\\\\[^\\]+\\[^\\]+$`)
	reVolumeID  = regexp.MustCompile(`^\\\\\?\\volume\{[^}]*\}$`)
	reUnixVol   = regexp.MustCompile(`^/(volumes|mnt|media)/[^/]+$`)
)

// broad lists folders that are too wide to trust wholesale, normalised (lower case, no
// trailing separator), with the reason.
var broadWindows = map[string]string{
	`c:\program files`:                    "the whole of Program Files",
	`c:\program files (x86)`:              "the whole of Program Files",
	`%programfiles%`:                      "the whole of Program Files",
	`%programfiles(x86)%`:                 "the whole of Program Files",
	`c:\windows`:                          "the Windows folder",
	`c:\windows\system32`:                 "the Windows system folder",
	`c:\programdata`:                      "ProgramData: any user may create folders in it (world-writable)",
	`c:\users`:                            "the folder of all user profiles",
	`c:\users\*`:                          "a user-profile root",
	`%userprofile%`:                       "a user-profile root",
	`c:\users\*\appdata`:                  "a user-profile AppData root",
	`c:\users\*\appdata\local`:            "a user-profile AppData root",
	`c:\users\*\appdata\roaming`:          "a user-profile AppData root",
	`c:\users\*\appdata\locallow`:         "a user-profile AppData root",
	`c:\users\*\appdata\local\programs`:   "the per-user Programs folder (every per-user app)",
	`c:\users\*\appdata\roaming\programs`: "the per-user Programs folder (every per-user app)",
	`c:\users\*\documents`:                "a user's documents",
	`c:\users\*\downloads`:                "a user's downloads (world of untrusted files)",
	`c:\users\*\desktop`:                  "a user's desktop",
}

// Windows temp and world-writable folders: refused, and so is everything beneath them.
var underWindows = map[string]string{
	`c:\windows\temp`:               "a temp folder",
	`c:\temp`:                       "a temp folder",
	`c:\tmp`:                        "a temp folder",
	`%temp%`:                        "a temp folder",
	`%tmp%`:                         "a temp folder",
	`c:\users\*\appdata\local\temp`: "a temp folder",
	`c:\users\public`:               "a world-writable folder (C:\\Users\\Public)",
}

var broadUnix = map[string]string{
	"/":                                    "the file system root",
	"/applications":                        "the whole of /Applications",
	"/usr":                                 "the whole of /usr",
	"/usr/local":                           "the whole of /usr/local",
	"/usr/bin":                             "a system binary folder",
	"/usr/sbin":                            "a system binary folder",
	"/usr/local/bin":                       "a shared binary folder",
	"/usr/local/sbin":                      "a shared binary folder",
	"/usr/lib":                             "a system library folder",
	"/usr/local/lib":                       "a shared library folder",
	"/bin":                                 "a system binary folder",
	"/sbin":                                "a system binary folder",
	"/lib":                                 "a system library folder",
	"/opt":                                 "the whole of /opt",
	"/etc":                                 "the system configuration folder",
	"/var":                                 "the whole of /var",
	"/var/lib":                             "the whole of /var/lib",
	"/var/log":                             "all system logs",
	"/library":                             "the whole of /Library",
	"/library/application support":         "the whole of /Library/Application Support",
	"/library/caches":                      "the whole of /Library/Caches",
	"/library/logs":                        "all system logs",
	"/library/launchdaemons":               "every LaunchDaemon",
	"/system":                              "the macOS system folder",
	"/private":                             "the macOS /private folder",
	"/private/var":                         "the whole of /var",
	"/volumes":                             "every mounted volume",
	"/home":                                "the folder of all user profiles",
	"/users":                               "the folder of all user profiles",
	"/home/*":                              "a user-profile root",
	"/users/*":                             "a user-profile root",
	"/root":                                "a user-profile root",
	"~":                                    "a user-profile root",
	"/users/*/library":                     "a user's whole Library",
	"/users/*/library/application support": "a user's whole Application Support",
	"/users/*/downloads":                   "a user's downloads",
	"/home/*/downloads":                    "a user's downloads",
}

var underUnix = map[string]string{
	"/tmp":                 "a temp and world-writable folder",
	"/var/tmp":             "a temp and world-writable folder",
	"/private/tmp":         "a temp and world-writable folder",
	"/private/var/tmp":     "a temp and world-writable folder",
	"/private/var/folders": "a per-user temp folder",
	"/var/folders":         "a per-user temp folder",
	"/dev/shm":             "a world-writable folder",
	"/users/shared":        "a world-writable folder (/Users/Shared)",
}

// CheckPathRule returns why a path rule over value (for platform os) must be refused, or ""
// when it is acceptable. It refuses drive and volume roots, whole Program Files, /Applications,
// /usr, /usr/local and similar system folders, user-profile roots, temp and world-writable
// folders (and anything beneath them), bare wildcards, relative paths and paths with "..".
// A folder that exists on this machine and is world-writable is refused too.
func CheckPathRule(os, value string) string {
	v := strings.TrimSpace(value)
	if v == "" {
		return "empty path"
	}
	win := os == "windows"
	sep := "/"
	if win {
		sep = `\`
		v = strings.ReplaceAll(v, "/", `\`)
	}
	for _, seg := range strings.Split(v, sep) {
		if seg == ".." {
			return `the path contains ".."`
		}
	}
	segs := strings.Split(strings.TrimRight(v, sep), sep)
	last := segs[len(segs)-1]
	bare := strings.Trim(last, "*?") == "" && last != "" || v == "*"
	n := strings.ToLower(v)
	if win {
		n = strings.ReplaceAll(n, `<user>`, "*")
		if n != `\` && !reDriveRoot.MatchString(n) {
			n = strings.TrimRight(n, `\`)
		}
		switch {
		case reDriveRoot.MatchString(n):
			return "a drive root"
		case reUNCRoot.MatchString(n), reVolumeID.MatchString(n):
			return "a volume root"
		}
		if r, ok := broadWindows[n]; ok {
			return r
		}
		if bare {
			return bareWildcard
		}
		for p, r := range underWindows {
			if n == p || strings.HasPrefix(n, p+`\`) {
				return r
			}
		}
		if !reDriveRoot.MatchString(n[:min(len(n), 2)]+`\`) && !strings.HasPrefix(n, `\\`) && !strings.HasPrefix(n, "%") {
			return "not an absolute path"
		}
		return ""
	}
	if n != "/" {
		n = strings.TrimRight(n, "/")
	}
	if reUnixVol.MatchString(n) {
		return "a volume root"
	}
	if r, ok := broadUnix[n]; ok {
		return r
	}
	if bare {
		return bareWildcard
	}
	for p, r := range underUnix {
		if n == p || strings.HasPrefix(n, p+"/") {
			return r
		}
	}
	if !strings.HasPrefix(n, "/") && !strings.HasPrefix(n, "~/") {
		return "not an absolute path"
	}
	if worldWritable(v) {
		return "a world-writable folder on this machine"
	}
	return ""
}

const bareWildcard = "a bare wildcard (it trusts every file there)"

func worldWritable(p string) bool {
	if strings.ContainsAny(p, "*?~") {
		return false
	}
	fi, err := os.Stat(p)
	if err != nil || !fi.IsDir() {
		return false
	}
	return fi.Mode().Perm()&0o002 != 0
}

// Refusals checks the policy's path rules against the guardrails, as Decide does, and returns
// the ones refused that the policy does not record as kept with --force (a guardrail-forced
// warning naming the path); nil when there are none. Exporters call it so that a policy edited
// by hand cannot carry a drive root or a temp folder into a vendor file unnoticed.
func (p *Policy) Refusals() *GuardrailError {
	forced := p.forcedPaths()
	var ge GuardrailError
	for _, r := range p.Rules {
		if r.Criterion != CriterionPath || forced[r.Value] {
			continue
		}
		os := r.Platform
		if os == "" {
			os = p.OS
		}
		if why := CheckPathRule(os, r.Value); why != "" {
			ge.Refusals = append(ge.Refusals, Refusal{Path: r.Value, Reason: why})
		}
	}
	if len(ge.Refusals) == 0 {
		return nil
	}
	return &ge
}

// forcedPaths are the path rules the policy records as kept with --force.
func (p *Policy) forcedPaths() map[string]bool {
	forced := map[string]bool{}
	for _, w := range p.Warnings {
		if w.Code == "guardrail-forced" {
			for _, f := range w.Files {
				forced[f] = true
			}
		}
	}
	return forced
}
