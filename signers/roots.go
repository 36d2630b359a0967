package signers

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// ParseRoots reads PEM-encoded certificates (a --roots file) into a pool. It fails when the
// data holds no certificate or a CERTIFICATE block that does not parse, naming the block.
func ParseRoots(data []byte) (*x509.CertPool, []*x509.Certificate, error) {
	pool := x509.NewCertPool()
	var certs []*x509.Certificate
	for i := 1; ; i++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("PEM block %d: %w", i, err)
		}
		pool.AddCert(c)
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("no PEM CERTIFICATE block found")
	}
	return pool, certs, nil
}
