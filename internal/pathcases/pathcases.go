// Package pathcases holds the table of path rule values the guardrails are tested with, per
// platform and family: the spellings an attacker would try for a protected folder (case,
// separators, "." and "..", environment variables, 8.3 names, device and UNC forms,
// firmlinks, wildcards) and the legitimate paths that must stay accepted. The library's
// judge, check, export and the CLI's check, export and generate --profile are all tested
// over the same table, so that they are known to agree on every row.
package pathcases

import "github.com/edrpolicy/edrpolicy/edrpolicy/profile"

// Case is one value for one platform: whether the guardrails must refuse it, and a fragment
// the refusal reason must contain ("" for any).
type Case struct {
	Family   string
	Platform profile.OS
	Value    string
	Refused  bool
	Reason   string
}

func refuse(family string, platform profile.OS, reason string, values ...string) []Case {
	out := make([]Case, 0, len(values))
	for _, v := range values {
		out = append(out, Case{Family: family, Platform: platform, Value: v, Refused: true, Reason: reason})
	}
	return out
}

func accept(family string, platform profile.OS, values ...string) []Case {
	out := make([]Case, 0, len(values))
	for _, v := range values {
		out = append(out, Case{Family: family, Platform: platform, Value: v})
	}
	return out
}

// All returns every case (a new slice each call).
func All() []Case {
	var all []Case
	for _, part := range [][]Case{Windows(), Mac(), Linux()} {
		all = append(all, part...)
	}
	return all
}

// Windows returns the Windows cases.
func Windows() []Case {
	const w = "windows"
	return concat(
		refuse("drive root", w, "a drive root",
			`C:\`, `c:`, `D:\`, `C:/`, `C://`, `C:\.`, `C:\.\.\`, `c:\\\`, `C:\x\..`, `C:\Windows\..\`,
			`C:\Program Files\CrashPlan\..\..`, `%SystemDrive%`, `%SYSTEMDRIVE%\`, `%systemdrive%\.`, `%SystemDrive%\\`,
			`%SystemDrive%/`, `%HOMEDRIVE%`, `%HomeDrive%\`, `%HOMEDRIVE%%HOMEPATH%`, `%SystemRoot%\..`, `%windir%\..\`,
			`%ProgramFiles%\..`, `%SystemDrive%\Windows\..`),
		refuse("above the root", w, `".." climbs above the root`, `C:\..`, `C:\x\..\..`, `%SystemDrive%\..\x`),
		refuse("device or UNC", w, "", `\\?\C:\`, `\\?\c:\Program Files\CrashPlan`, `\\.\C:\`, `//?/C:/Windows`, `\??\C:\`,
			`\\localhost\c$\Windows`, `\\127.0.0.1\c$`, `\\LOCALHOST\C$\ProgramData\x`, `\\?\UNC\localhost\c$\x`,
			`\\server\share`, `\\server\share\CrashPlan`, `//server/share/x`, `\Device\HarddiskVolume3\Program Files`,
			`\device\harddiskvolume1\x`, `\\?\Volume{01234567-89ab-cdef-0123-456789abcdef}\`, `\\?\GLOBALROOT\Device\HarddiskVolume1`,
			`\GLOBAL??\C:\x`, `\\.\PhysicalDrive0`, `\\[::1]\c$`, `\\localhost\C$`),
		refuse("not absolute", w, "", `CrashPlan\cache`, `\Program Files\CrashPlan`, `C:Windows`, `.\x`, `..\x`, `*`,
			`%HOMEPATH%\x`, `1:\x`),
		refuse("8.3 short name", w, "8.3 short name", `C:\PROGRA~1`, `C:\PROGRA~2\`, `c:\progra~1\CrashPlan`,
			`C:\Program Files\CRASHP~1\cache`, `C:\Users\ADMINI~1\AppData`, `C:\DOCUME~1\x`, `C:\PROGRA~?\x`, `C:\WINDOW~1`,
			`C:\Users\*\APPDAT~1\Local\Temp`),
		refuse("known variable, protected folder", w, "", `%ProgramFiles%`, `%ProgramFiles(x86)%\`, `%PROGRAMW6432%`,
			`%CommonProgramFiles%`, `%ProgramData%`, `%ALLUSERSPROFILE%\`, `%PUBLIC%\x`, `%USERPROFILE%`, `%UserProfile%\Downloads`,
			`%LOCALAPPDATA%`, `%APPDATA%\`, `%TEMP%`, `%tmp%\CrashPlan`, `%SystemTemp%\x`, `%SystemRoot%`, `%windir%\System32`,
			`%windir%\Temp\x`, `%LocalAppData%\Temp\x`, `%USERPROFILE%\AppData\Local\Temp`, `%ProgramFiles(Arm)%`,
			`%CommonProgramW6432%`, `%ProgramFiles%\*\x`, `%SystemDrive%\Users\Public`, `%SystemDrive%\Temp\x`),
		refuse("unknown variable", w, "", `%OneDrive%\x`, `%USERNAME%`, `C:\Users\%USERNAME%\AppData\Local\CrashPlan`,
			`%ComSpec%`, `%DriverData%\x`, `%%\x`, `%FOO%`, `%HOMESHARE%\x`, `%ProgramFiles (x86)%\x`, `C:\100%\50%\x`),
		accept("known variable, narrow folder", w, `%ProgramFiles%\CrashPlan`, `%ProgramData%\CrashPlan\cache`,
			`%ALLUSERSPROFILE%\CrashPlan\cache`, `%LOCALAPPDATA%\CrashPlan\cache`, `%USERPROFILE%\AppData\Local\CrashPlan\cache`,
			`%SystemDrive%\ProgramData\CrashPlan\cache`, `%programfiles(x86)%\CrashPlan\`, `C:\100%\x`),
		refuse("Program Files spellings", w, "the whole of Program Files", `C:\Program Files\.`, `C:\\Program Files\\`,
			`C:/Program Files/`, `C:\Program Files\CrashPlan\..`, `C:\Program Files.\`, `C:\Program Files  `, `c:\PROGRAM FILES`,
			`C:\Program Files\x\..\.\`, `C:\pRoGrAm FiLeS (X86)`, `D:\Program Files`, `C:\Program Files (Arm)`),
		refuse("temp folder", w, "a temp folder", `C:/Users//x/./AppData\Local\Temp`, `C:\Users\bob\AppData\Local\Temp\x`,
			`c:\USERS\*\appdata\local\TEMP\CrashPlan`, `C:\Windows\Temp\`, `C:\WINDOWS\temp\x\y`, `C:\Temp`, `C:\temp\CrashPlan`,
			`C:\Windows\SystemTemp\x`, `C:\Documents and Settings\bob\Local Settings\Temp\x`, `C:\Users\bob\Local Settings\Temp`,
			`C:\Users\*\AppData\LocalLow\Temp\x`, `C:\Windows.\Temp\x`, `C:\Windows \Temp`, `C:\Users\<user>\AppData\Local\Temp`,
			`C:\Windows\ServiceProfiles\LocalService\AppData\Local\Temp\x`),
		refuse("world-writable", w, "", `C:\Users\Public`, `c:\users\public\x`, `C:\Users\Public\Documents\CrashPlan`,
			`c:\users\public\..\all users`, `C:\Users\All Users`, `C:\ProgramData\Desktop\x`, `C:\Windows\Tasks\x`,
			`C:\Windows\tracing`, `C:\Windows\System32\spool\drivers\color\x`, `C:\Windows\System32\Tasks\x`,
			`C:\Windows\SysWOW64\Tasks\x`, `C:\Windows\System32\Microsoft\Crypto\RSA\MachineKeys`, `C:\ProgramData`,
			`C:\ProgramData\`, `C:\Users\All Users\Application Data`, `C:\$Recycle.Bin\x`),
		refuse("user profile", w, "", `C:\Users`, `C:\Users\`, `C:\Users\*`, `C:\Users\bob`, `C:\Users\<user>`, `C:\Users\?ob`,
			`C:\Documents and Settings`, `C:\Documents and Settings\bob`, `C:\Users\*\AppData`, `C:\Users\bob\AppData\Roaming`,
			`C:\Users\*\Application Data`, `C:\Users\*\AppData\Local\Programs`, `C:\Users\*\Downloads`, `C:\Users\*\Desktop\`,
			`C:\Windows\System32\config\systemprofile`, `C:\Windows\ServiceProfiles\NetworkService`, `C:\Users\Default User`,
			`C:\Users\*\Downloads\CrashPlan`, `c:\users\bob\desktop\x\y`, `C:\Users\*\AppData\Local\Packages\*\LocalCache`),
		refuse("wildcard", w, "", `C:\Prog*`, `C:\Program*\`, `C:\P*`, `C:\Program Files*`, `C:\Program Files (x8?)`,
			`C:\*\Temp`, `C:\*`, `C:\*\CrashPlan`, `C:\Win*\Temp\x`, `C:\Windows\T?mp\x`, `C:\Users\*\*`, `C:\Users\*\AppData\*`,
			`C:\Users\*\AppData\Local\T*\x`, `C:\Users\?ob\AppData\Local\CrashPlan`, `C:\Users\P*\x`, `C:\Users\[Pp]ublic\x`,
			`C:\Program Files\*\cache`, `C:\Program Files\Crash*\cache`, `C:\ProgramData\*\cache`, `C:\Program Files\CrashPlan\*`,
			`C:\Program Files\CrashPlan\**`, `C:\Program Files\**\x`, `*:\x`, `?:\Program Files\CrashPlan`,
			`C:\Users\*\AppData\Local\*\cache`, `C:\Windows\*\x`, `C:\Windows\System32\*.exe`, `C:\Program Files\*.exe`,
			`C:\Users\*\*\CrashPlan`, `C:\Prog*.\x`, `C:\Users\*\*\Local\Temp`),
		refuse("Windows folder", w, "", `C:\Windows`, `%windir%`, `C:\Windows\System32`, `C:\Windows\system32\`,
			`C:\Windows\SysWOW64`, `C:\Windows\System32\drivers`, `C:\Windows\System32\config`, `C:\Windows\WinSxS\`),
		refuse("odd characters", w, "", `C:\ProgramData\CrashPlan:stream`, `C:\Windows\Temp::$DATA`, `C:\x\NUL`, `C:\x\con.txt`,
			`C:\x\COM1\y`, `C:\x<y`, `C:\a|b`, `C:\a"b`, `C:\...\x`, `C:\x\. .\y`, "C:\\Windows\uff3cTemp", "C:\\Program Files\u00a5CrashPlan",
			"C:\\Program Files\\CrashPlan\x00\\..", "C:\\Program Files\\\u0441rashPlan\\..\\.."),
		accept("narrow", w, `C:\Program Files\CrashPlan`, `C:\Program Files\CrashPlan\CrashPlanService.exe`,
			`C:\ProgramData\CrashPlan\cache`, `c:/programdata/crashplan/cache/`, `C:\Users\*\AppData\Local\CrashPlan\cache`,
			`C:\Users\<user>\AppData\Roaming\CrashPlan\log`, `C:\Users\bob\AppData\Local\CrashPlan\cache`,
			`C:\Program Files\CrashPlan\x\..\cache`, `C:\Program Files\Code42\*.exe`, `D:\CrashPlan\cache`,
			`C:\Users\*\AppData\Local\Programs\CrashPlan\CrashPlan.exe`, `C:\Program Files\Common Files\CrashPlan`,
			`C:\Program Files (x86)\CrashPlan\`, `  C:\ProgramData\CrashPlan\conf  `, `C:\Program Files\CrashPlan\.\bin`),
	)
}

// Mac returns the macOS cases.
func Mac() []Case {
	const m = "mac"
	return concat(
		refuse("root", m, "the file system root", `/`, `//`, `/.`, `/./`, `/Applications/..`, `/System/Volumes/Data`,
			`/System/Volumes/Data/`, `/Users/Shared/../..`, `/private/..`, `/tmp/..`, `/sYsTeM/vOlUmEs/dAtA/.`),
		refuse("above the root", m, `".." climbs above the root`, `/..`, `/x/../..`),
		refuse("firmlink", m, "", `/System/Volumes/Data/Applications`, `/system/volumes/data/applications/`,
			`/System/Volumes/Data/Users/x`, `/System/Volumes/Data/private/tmp/x`, `/System/Volumes/Data/Library/Caches`,
			`/System/Volumes/Data/System/Volumes/Data/Applications`, `/System/Volumes/Data/usr/local`,
			`/System/Volumes/Data/Users/Shared/CrashPlan`, `/System/Volumes`),
		refuse("private", m, "", `/private/var`, `/private/tmp`, `/private/etc`, `/private/var/folders/ab/cd/T/x`,
			`/private/tmp/x`, `/PRIVATE/TMP/x`, `/var/folders/x`, `/tmp`, `/TMP/`, `/var/tmp/x`, `/private`, `/private/var/tmp/x`),
		refuse("applications", m, "", `/Applications`, `/APPLICATIONS/`, `/Applications/`, `/applications/.`,
			`/Applications/*.app`, `/Applications/*`, `/Applications/C*.app`, `/Applications/?rashPlan.app`,
			`/Volumes/Macintosh HD/Applications`, `/Volumes/*/Applications`, `/Applications/Utilities`, `/Applications/*/Contents`),
		refuse("user profile", m, "", `/Users`, `/Users/*`, `/Users/bob`, `/USERS/Bob/`, `/Users/*/Library`, `/Users/*/library/`,
			`/Users/*/Library/Application Support`, `/Users/*/Downloads`, `/Users/Shared`, `/Users/Shared/x`,
			`/users/shared/CrashPlan`, `/Users/S*/x`, `/Users/*/*`, `/Users/*/Library/*`, `/Users/*/Library/Caches/*`, `~`, `~/`,
			`~/Library`, `~/../`, `$HOME`, `${HOME}/Downloads`, `$HOME/Library/Caches`, `/var/root`, `~root`, `~bob/x`,
			`/Users/?ob/Library/Logs/CrashPlan`, `/Users/*/Downloads/CrashPlan`, `/Users/*/*/CrashPlan`),
		refuse("variable", m, "", `$TMPDIR`, `${TMPDIR}x`, `$TMPDIR/CrashPlan`, `$USER`, `/Users/$USER/x`, `$(id -un)`, `/opt/$1`,
			`${HOME`, "/opt/`id`$$"),
		refuse("system", m, "", `/System`, `/Library`, `/Library/Caches`, `/Library/Application Support`, `/usr`, `/usr/local`,
			`/usr/local/bin`, `/opt`, `/opt/homebrew`, `/bin`, `/etc`, `/var`, `/Volumes`, `/Volumes/Backup`, `/Library/*/CrashPlan`,
			`/Library/Application Support/*`, `/usr/local/*/cache`, `/Library/LaunchDaemons/`, `/usr/local/Cellar`),
		refuse("ignored or folded characters", m, "", "/Appl\u200cications", "/tm\ufeffp/x", "/Library/Cache\u017f",
			"/\u212a/../Applications"),
		accept("narrow", m, `/Library/Caches/CrashPlan`, `/library/caches/crashplan/`,
			`/Library/Application Support/CrashPlan/BackupArchives`, `/Users/*/Library/Logs/CrashPlan`, `~/Library/Logs/CrashPlan`,
			`$HOME/Library/Logs/CrashPlan`, `/Applications/CrashPlan.app`, `/Applications/CrashPlan.app/Contents/MacOS/CrashPlan`,
			`/var/../x`, `/Volumes/Backup/CrashPlan`, `/usr/local/crashplan`, `/opt/crashplan$`, `/Users/bob/Library/Logs/CrashPlan`,
			`/Library/Application Support/CrashPlan/conf/`),
	)
}

// Linux returns the Linux cases.
func Linux() []Case {
	const l = "linux"
	return concat(
		refuse("root", l, "the file system root", `/`, `//`, `/.`, `/tmp/..`, `/usr/..`, `/bin/..`),
		refuse("temp", l, "", `/tmp`, `/tmp/`, `/tmp/x`, `//tmp//x`, `/./tmp/./x`, `/var/tmp/x`, `/usr/tmp/x`, `/bin/../tmp`,
			`/dev/shm/x`, `/run/lock/x`, `/var/lock/x`, `/var/run/lock/x`, `/run/user/1000/x`, `$TMPDIR`, `${TMPDIR}/x`,
			`${TMPDIR}x`, `/var/crash/x`, `/usr/local/crashplan/../../../tmp/x`),
		refuse("system", l, "", `/usr`, `/usr/`, `/usr/local`, `/usr/local/`, `/usr/local/bin`, `/opt`, `/etc`, `/var`, `/var/lib`,
			`/var/log`, `/lib`, `/lib64`, `/srv`, `/boot`, `/proc`, `/dev`, `/run`, `/snap`, `/usr/share`, `/var/cache`),
		refuse("user profile", l, "", `/home`, `/home/*`, `/home/bob`, `/root`, `$HOME`, `~`, `~/`, `~/Downloads`,
			`/home/*/Downloads`, `/home/*/Downloads/x`, `/home/*/.config`, `/home/*/.local/share`, `/home/?ob/x`, `/home/*/*`, `~bob`, `${HOME}/`),
		refuse("volume", l, "", `/mnt/data`, `/mnt/x/`, `/media/usb`, `/media/bob/USB`, `/mnt`, `/media`),
		refuse("wildcard", l, "", `/usr/*`, `/usr/local/*`, `/usr/local/*/cache`, `/opt/*/cache`, `/t*`, `/*/x`, `/var/lib/*`,
			`/home/*/.code42/*`, `/usr/local/crashplan/*`, `/usr/local/crashplan/**`, `/usr/l*`, `/tm?/x`),
		refuse("variable", l, "", `$USER`, `/opt/$APP/x`, `/opt/a$b`, `$(pwd)`, `/opt/$1`, `~root/x`),
		refuse("not absolute", l, "not an absolute path", `usr/local`, `./x`, `x`),
		accept("case-sensitive", l, `/TMP/x`, `/Tmp`, `/USR/LOCAL`, `/Home/x`),
		accept("narrow", l, `/usr/local/crashplan/cache`, `/usr/local/crashplan/log/`, `/var/lib/crashplan/.identity`,
			`/var/opt/proserver/backupArchives/CrashPlanArchive_Default`, `/usr/local/var/crashplan`, `/home/*/.code42/logs`,
			`~/.code42/logs`, `$HOME/.code42/logs`, `/opt/crashplan/cache`, `/usr/local/crashplan/bin/run.conf`, `/opt/a$`,
			`/usr/local/crashplan/./cache//`),
	)
}

func concat(parts ...[]Case) []Case {
	var out []Case
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
