package fleet

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// HostSet agrees with a map under random adds and removes, in its sparse and bitset forms.
func TestHostSetAgreesWithMap(t *testing.T) {
	for _, tc := range []struct {
		name        string
		hosts, ops  int
		removeEvery int
	}{
		{"sparse", 100000, 50, 3},
		{"dense", 2000, 20000, 5},
		{"grow and shrink", 5000, 20000, 2},
		{"one host", 1, 10, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tc.hosts)))
			var s HostSet
			ref := map[uint32]bool{}
			for i := range tc.ops {
				id := uint32(r.IntN(tc.hosts))
				if i%tc.removeEvery == 0 {
					assert.Equal(t, ref[id], s.Remove(id), "remove %d", id)
					delete(ref, id)
				} else {
					assert.Equal(t, !ref[id], s.Add(id), "add %d", id)
					ref[id] = true
				}
			}
			require.Equal(t, len(ref), s.Len())
			var got, want []uint32
			s.Each(func(id uint32) { got = append(got, id) })
			for id := range ref {
				want = append(want, id)
				assert.True(t, s.Has(id))
			}
			slices.Sort(want)
			assert.Equal(t, want, got, "Each is in increasing order")
		})
	}
}

// A set never takes much more than one bit per host, and a few hosts take a few words.
func TestHostSetIsCompact(t *testing.T) {
	const hosts = 10000
	var all, few HostSet
	for i := range hosts {
		all.Add(uint32(i))
	}
	few.Add(17)
	few.Add(9999)
	assert.Equal(t, hosts, all.Len())
	assert.LessOrEqual(t, all.Bytes(), 2*hosts/8+64, "a full set is a bitset")
	assert.LessOrEqual(t, few.Bytes(), 64, "a sparse set is a short slice")

	m := newMask(hosts)
	for i := 0; i < hosts; i += 2 {
		m.set(uint32(i))
	}
	assert.Equal(t, hosts/2, all.countIn(m))
	assert.Equal(t, 0, few.countIn(m), "17 and 9999 are odd")
}
