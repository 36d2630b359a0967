package edrpolicy

// WarningCode is the stable identifier of a Warning (policy.json "warnings[].code"). The
// strings are part of the contract: scripts match on them. Every code the library emits is a
// constant of this type: the codes of Decide and Generate below, the fleet codes in package
// fleet (fleet-*, evidence-error) and the exporters' codes in package exporters (export-*).
type WarningCode string

// Warning codes of Decide, Generate and Check's readers (package edrpolicy).
const (
	// WarnAssumedPaths: the profile has no path table for the version inspected, so the paths
	// of another version were assumed (Decide).
	WarnAssumedPaths WarningCode = "assumed-paths"
	// WarnUnknownPaths: the profile knows no install paths for this OS and version; file
	// rules name the install paths given and no folder rules were written (Decide).
	WarnUnknownPaths WarningCode = "unknown-paths"
	// WarnRelativePaths: a root has no install path, so its rules name files relative to the
	// inspected root and no path rule is written for them (Decide).
	WarnRelativePaths WarningCode = "relative-paths"
	// WarnNoExecutables: no executable file was found under the inspected roots (Decide).
	WarnNoExecutables WarningCode = "no-executables"
	// WarnTampered: files whose signature does not verify; they get hash rules only (Decide).
	WarnTampered WarningCode = "tampered"
	// WarnUnexpectedSigner: valid signatures from a Team ID other than the one the profile
	// expects for the era (Decide).
	WarnUnexpectedSigner WarningCode = "unexpected-signer"
	// WarnGuardrailForced: a path rule a guardrail refuses was kept (Decide) or exported
	// (exporters' Admit) because the decision was forced; check reads these records back
	// (Policy.ForcedFiles).
	WarnGuardrailForced WarningCode = "guardrail-forced"
	// WarnSignerExpired: a signer rule's leaf certificate has expired (Decide).
	WarnSignerExpired WarningCode = "signer-expired"
	// WarnSignerExpiring: a signer rule's leaf certificate expires within 90 days (Decide).
	WarnSignerExpiring WarningCode = "signer-expiring"
	// WarnHashUpgrade: hash rules must be regenerated at every upgrade (Decide).
	WarnHashUpgrade WarningCode = "hash-upgrade"
	// WarnUnknownSigner: the profile does not know the signer for this OS, version or
	// product, so signer rules for unpinned signers are narrowed to their files (Decide).
	WarnUnknownSigner WarningCode = "unknown-signer"
	// WarnUnknownEra: the version belongs to no era of the profile, so no signer is expected
	// (Decide).
	WarnUnknownEra WarningCode = "unknown-era"
	// WarnNote: a note of the profile that applies to this OS and version, with its sources
	// (Decide).
	WarnNote WarningCode = "note"
	// WarnAdvice: the profile's advice about exceptions on one topic, quoted with its sources
	// (Decide).
	WarnAdvice WarningCode = "advice"
	// WarnSignerChange: the era or the signers changed since the previous policy, or a
	// previous signer rule no longer matches (Decide with DecideOptions.Previous).
	WarnSignerChange WarningCode = "signer-change"
	// WarnSuperseded: rules of the previous policy that the install no longer matches
	// (Decide with DecideOptions.Previous; see Policy.Superseded).
	WarnSuperseded WarningCode = "superseded"
	// WarnKeptPrevious: rules of the previous version kept for the rollout window (Decide
	// with DecideOptions.KeepPrevious).
	WarnKeptPrevious WarningCode = "kept-previous"
	// WarnWeakDigest: signatures with an MD5 or SHA-1 digest, which give a signer rule only
	// when the signer is pinned (Decide).
	WarnWeakDigest WarningCode = "weak-digest"
	// WarnTeamIDUnproven: files name an Apple Team ID their signing certificate does not
	// prove; no rule names that Team ID (Decide).
	WarnTeamIDUnproven WarningCode = "team-id-unproven"
	// WarnOSMismatch: executables whose format belongs to another OS than DecideOptions.OS
	// (the CLI exits 1: their endpoint paths are for the wrong system) (Decide).
	WarnOSMismatch WarningCode = "os-mismatch"
	// WarnUnsealedBundle: executables of an app bundle whose resources are not sealed
	// (Decide).
	WarnUnsealedBundle WarningCode = "unsealed-bundle"
	// WarnUnreadable: a file or folder the inspection could not read: the policy was built
	// from a partial read (Policy.Partial) and says which files are missing (Decide, and
	// package fleet for evidence files it cannot read).
	WarnUnreadable WarningCode = "unreadable"
	// WarnExpired: rules whose governance expiry has passed (Decide; check fails on them).
	WarnExpired WarningCode = "expired"
	// WarnInterpreter: files that are interpreters or LOLBins got no rule (Decide; the CLI
	// exits 1).
	WarnInterpreter WarningCode = "interpreter"
	// WarnInterpreterForced: interpreters or LOLBins got a rule because the decision (Decide)
	// or the export (exporters' Admit) was forced.
	WarnInterpreterForced WarningCode = "interpreter-forced"
	// WarnRiskySignerForced: a signer that signs much else was pinned (Decide), or exported
	// (exporters' Admit), by force.
	WarnRiskySignerForced WarningCode = "risky-signer-forced"
)
