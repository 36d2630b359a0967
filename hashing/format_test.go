package hashing

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
)

// minimalPE returns bytes that start like a PE file with the PE signature at peOff.
func minimalPE(peOff uint32, total int) []byte {
	b := make([]byte, total)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], peOff)
	if int(peOff)+4 <= total {
		copy(b[peOff:], "PE\x00\x00")
	}
	return b
}

func fat(n uint32, entries [][2]uint32, total int) []byte {
	b := make([]byte, total)
	binary.BigEndian.PutUint32(b, 0xcafebabe)
	binary.BigEndian.PutUint32(b[4:], n)
	for i, e := range entries {
		o := 8 + 20*i
		binary.BigEndian.PutUint32(b[o:], 0x0100000c) // arm64
		binary.BigEndian.PutUint32(b[o+8:], e[0])
		binary.BigEndian.PutUint32(b[o+12:], e[1])
		binary.BigEndian.PutUint32(b[o+16:], 14)
	}
	return b
}

func TestSniff(t *testing.T) {
	machoLE64 := append([]byte{0xcf, 0xfa, 0xed, 0xfe}, make([]byte, 28)...)
	machoBE32 := append([]byte{0xfe, 0xed, 0xfa, 0xce}, make([]byte, 24)...)
	machoLE32 := append([]byte{0xce, 0xfa, 0xed, 0xfe}, make([]byte, 24)...)
	machoBE64 := append([]byte{0xfe, 0xed, 0xfa, 0xcf}, make([]byte, 28)...)
	// A Java class file: CAFEBABE, minor 0, major 52 (Java 8), then a constant pool.
	java := append([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52}, bytes.Repeat([]byte{1}, 200)...)
	java65 := append([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 3, 0, 45}, bytes.Repeat([]byte{1}, 200)...)

	tests := []struct {
		name string
		data []byte
		want Format
	}{
		{"empty", nil, FormatOther},
		{"three bytes", []byte("MZ\x00"), FormatOther},
		{"pe", minimalPE(0x80, 512), FormatPE},
		{"pe signature beyond head", minimalPE(5000, 6000), FormatPE},
		{"MZ without PE signature (DOS exe)", func() []byte { b := minimalPE(0x80, 512); b[0x80] = 'X'; return b }(), FormatOther},
		{"e_lfanew past EOF", minimalPE(0xfffffff0, 512), FormatOther},
		{"e_lfanew straddles EOF", minimalPE(510, 512), FormatOther},
		{"MZ truncated before e_lfanew", []byte("MZ\x90\x00\x03\x00"), FormatOther},
		{"macho 64 LE", machoLE64, FormatMachO},
		{"macho 32 BE", machoBE32, FormatMachO},
		{"macho 32 LE", machoLE32, FormatMachO},
		{"macho 64 BE", machoBE64, FormatMachO},
		{"macho magic but truncated header", machoLE64[:10], FormatOther},
		{"universal", fat(2, [][2]uint32{{4096, 100}, {8192, 100}}, 9000), FormatMachOUniversal},
		{"java class file", java, FormatOther},
		{"java class with minor version", java65, FormatOther},
		{"fat slice past EOF", fat(1, [][2]uint32{{4096, 10000}}, 5000), FormatOther},
		{"fat slice inside header", fat(1, [][2]uint32{{8, 100}}, 5000), FormatOther},
		{"fat zero count", fat(0, nil, 5000), FormatOther},
		{"fat table truncated", fat(3, [][2]uint32{{4096, 1}}, 40), FormatOther},
		{"text", []byte("#!/bin/sh\necho hi\n"), FormatOther},
		{"elf", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 57)...), FormatELF},
		{"elf magic, truncated header", []byte("\x7fELF\x02\x01\x01\x00"), FormatOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := tt.data
			if len(head) > SniffLen {
				head = head[:SniffLen]
			}
			assert.Equal(t, tt.want, Sniff(head, bytes.NewReader(tt.data), int64(len(tt.data))))
			// With the whole file in head, no random access is needed.
			assert.Equal(t, tt.want, Sniff(tt.data, nil, int64(len(tt.data))))
		})
	}
}

func FuzzSniff(f *testing.F) {
	f.Add(minimalPE(0x80, 512))
	f.Add(fat(2, [][2]uint32{{4096, 100}, {8192, 100}}, 9000))
	f.Add([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52})
	f.Fuzz(func(t *testing.T, data []byte) {
		head := data
		if len(head) > 64 {
			head = head[:64]
		}
		a := Sniff(head, bytes.NewReader(data), int64(len(data)))
		b := Sniff(data, nil, int64(len(data)))
		if a != b {
			t.Fatalf("head-only and random-access sniffing disagree: %s vs %s", a, b)
		}
	})
}
