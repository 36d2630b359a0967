package macho

import (
	"bytes"
	"encoding/binary"
	"io"

	"github.com/edrpolicy/edrpolicy/signers/internal/ber"
)

// CMSStats measures the CMS blob of every signed slice of a thin or universal file.
func CMSStats(b []byte) ([]ber.Stats, error) {
	r := bytes.NewReader(b)
	size := int64(len(b))
	refs := []sliceRef{{offset: 0, size: size}}
	if m := binary.BigEndian.Uint32(b); m == 0xcafebabe || m == 0xcafebabf {
		var err error
		if refs, _, err = parseFat(r, size); err != nil {
			return nil, err
		}
	}
	var out []ber.Stats
	for _, ref := range refs {
		sr := io.NewSectionReader(r, ref.offset, ref.size)
		tf, err := parseThin(sr, ref.size)
		if err != nil || tf.sigOff < 0 {
			continue
		}
		blob := make([]byte, tf.sigSize)
		if err := readAt(sr, blob, tf.sigOff, ref.size); err != nil {
			return nil, err
		}
		sb, err := parseSuperBlob(blob)
		if err != nil || len(sb.cms) == 0 {
			continue
		}
		st, err := ber.Measure(sb.cms)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}
