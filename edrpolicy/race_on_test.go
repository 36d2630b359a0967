//go:build race

package edrpolicy

// raceEnabled skips scale tests under the race detector, which makes them 10x slower
// without covering anything the smaller concurrent tests do not.
const raceEnabled = true
