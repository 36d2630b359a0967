package profile

// ver parses a version constant of a test: "" is the zero Version (no version), and a
// constant that does not parse is a bug in the test, so it panics.
func ver(s string) Version {
	if s == "" {
		return Version{}
	}
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}
