//go:build !race

package edrpolicy

const raceEnabled = false
