// Package sample holds the edrpolicy sample install: tiny PE and Mach-O files laid out like a
// CrashPlan 11.x install on Windows (windows/) and macOS (mac/CrashPlan.app), an upgrade of
// both (v2/), and the certificate of the throwaway CA that signed them (ca.pem), so that the
// README's commands run offline on any machine.
//
// THE SAMPLE SIGNER IS NOT REAL. The files are not CrashPlan, Code42 or Apple software; they
// are signed by "edrpolicy sample CA (NOT REAL, do not trust)", whose keys are committed in
// gen/sample-keys.pem (not secret). Never add ca.pem to a real trust store.
//
// The files are generated reproducibly (byte-identical on every run) by gen/main.go:
//
//	go generate ./examples/sample
//
// The package has no Go API; gen's test checks that the committed files are what the
// generator writes.
package sample

//go:generate go run ./gen
