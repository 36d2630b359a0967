package fleet

import (
	"math/bits"
	"sort"
)

// HostSet is a set of host IDs (small integers handed out by the merger's host table), kept
// compact for fleets of many hosts: a sorted slice while the set is sparse, a bitset once the
// slice would take more room than one bit per host. A set over n hosts therefore never takes
// more than about n/8 bytes, and an outlier set of a few hosts a few words.
type HostSet struct {
	ids  []uint32 // sorted, when words is nil
	bits []uint64 // bitset, when not nil
	n    int
}

// Len is the number of hosts in the set.
func (s *HostSet) Len() int { return s.n }

// Has reports whether id is in the set.
func (s *HostSet) Has(id uint32) bool {
	if s.bits != nil {
		w := int(id >> 6)
		return w < len(s.bits) && s.bits[w]&(1<<(id&63)) != 0
	}
	i := sort.Search(len(s.ids), func(i int) bool { return s.ids[i] >= id })
	return i < len(s.ids) && s.ids[i] == id
}

// Add puts id in the set and reports whether it was new.
func (s *HostSet) Add(id uint32) bool {
	if s.bits != nil {
		return s.setBit(id)
	}
	i := sort.Search(len(s.ids), func(i int) bool { return s.ids[i] >= id })
	if i < len(s.ids) && s.ids[i] == id {
		return false
	}
	// A slice of k IDs takes 4k bytes; a bitset up to the largest ID takes max/8. Switch
	// when the slice would be the larger.
	if maxID := max(id, s.last()); 4*(len(s.ids)+1) > int(maxID/8)+8 && len(s.ids) >= 16 {
		s.toBits(maxID)
		return s.setBit(id)
	}
	s.ids = append(s.ids, 0)
	copy(s.ids[i+1:], s.ids[i:])
	s.ids[i] = id
	s.n++
	return true
}

// Remove takes id out of the set and reports whether it was there.
func (s *HostSet) Remove(id uint32) bool {
	if s.bits != nil {
		w := int(id >> 6)
		if w >= len(s.bits) || s.bits[w]&(1<<(id&63)) == 0 {
			return false
		}
		s.bits[w] &^= 1 << (id & 63)
		s.n--
		return true
	}
	i := sort.Search(len(s.ids), func(i int) bool { return s.ids[i] >= id })
	if i == len(s.ids) || s.ids[i] != id {
		return false
	}
	s.ids = append(s.ids[:i], s.ids[i+1:]...)
	s.n--
	return true
}

// Each calls f for each host of the set in increasing order.
func (s *HostSet) Each(f func(id uint32)) {
	if s.bits == nil {
		for _, id := range s.ids {
			f(id)
		}
		return
	}
	for w, word := range s.bits {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			f(uint32(w<<6 | b))
			word &= word - 1
		}
	}
}

// Bytes is the memory the set holds (for the bounded-memory tests).
func (s *HostSet) Bytes() int { return 4*cap(s.ids) + 8*cap(s.bits) }

func (s *HostSet) last() uint32 {
	if len(s.ids) == 0 {
		return 0
	}
	return s.ids[len(s.ids)-1]
}

func (s *HostSet) toBits(maxID uint32) {
	s.bits = make([]uint64, int(maxID>>6)+1)
	for _, id := range s.ids {
		s.bits[id>>6] |= 1 << (id & 63)
	}
	s.ids = nil
}

func (s *HostSet) setBit(id uint32) bool {
	w := int(id >> 6)
	if w >= len(s.bits) {
		grown := make([]uint64, w+1, max(w+1, 2*len(s.bits)))
		copy(grown, s.bits)
		s.bits = grown
	}
	if s.bits[w]&(1<<(id&63)) != 0 {
		return false
	}
	s.bits[w] |= 1 << (id & 63)
	s.n++
	return true
}

// mask is a plain bitset over host IDs: the hosts of one version, or a scratch union.
type mask []uint64

func newMask(n int) mask { return make(mask, (n+63)/64) }

func (m mask) set(id uint32)      { m[id>>6] |= 1 << (id & 63) }
func (m mask) has(id uint32) bool { return int(id>>6) < len(m) && m[id>>6]&(1<<(id&63)) != 0 }

func (m mask) clear() {
	for i := range m {
		m[i] = 0
	}
}

func (m mask) count() int {
	n := 0
	for _, w := range m {
		n += bits.OnesCount64(w)
	}
	return n
}

// countIn is the number of hosts of s that are in m.
func (s *HostSet) countIn(m mask) int {
	if s.bits == nil {
		n := 0
		for _, id := range s.ids {
			if m.has(id) {
				n++
			}
		}
		return n
	}
	n := 0
	for w, word := range s.bits {
		if w >= len(m) {
			break
		}
		n += bits.OnesCount64(word & m[w])
	}
	return n
}

// addTo sets in u the hosts of s that are in m.
func (s *HostSet) addTo(u, m mask) {
	if s.bits == nil {
		for _, id := range s.ids {
			if m.has(id) {
				u.set(id)
			}
		}
		return
	}
	for w, word := range s.bits {
		if w >= len(m) {
			break
		}
		u[w] |= word & m[w]
	}
}

// eachIn calls f for each host of s that is in m, in increasing order.
func (s *HostSet) eachIn(m mask, f func(id uint32)) {
	s.Each(func(id uint32) {
		if m.has(id) {
			f(id)
		}
	})
}
