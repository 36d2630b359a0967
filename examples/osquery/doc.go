// Package osquery holds osquery query packs for the code42 profile, as `edrpolicy
// osquery-pack` prints them:
//
//	code42-windows.json              edrpolicy osquery-pack --profile code42 --os windows --app-version 10.4.0 --app-version 11.2.0
//	code42-windows-sentinelone.json  the same with --vendor sentinelone (SHA-1 too)
//	code42-mac.json                  edrpolicy osquery-pack --profile code42 --os mac --app-version 10.4.0 --app-version 11.2.0
//	code42-linux.json                edrpolicy osquery-pack --profile code42 --os linux --app-version 11.2.0
//
// Schedule one in osqueryd (packs) or in Fleet, collect a day of results, and feed them to
// `edrpolicy generate --evidence` with a reference `edrpolicy inspect --format json` per
// version. A test in edrpolicy/fleet keeps these files current:
//
//	go generate ./examples/osquery
//
// The package has no Go API.
package osquery

//go:generate go test ../../edrpolicy/fleet -run TestExamplePacksCurrent -update
