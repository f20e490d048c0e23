package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// issue makes a certificate for names signed by parent (self-signed when
// parent is nil) and returns it with its key.
func issue(t *testing.T, cn string, dns []string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, ca bool) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:        ca, BasicConstraintsValid: true,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// TestCertsD: a registry's CA and client certificate come from
// certs.d/<host>/ (ca.crt, client.cert, client.key), as Docker's.
func TestCertsD(t *testing.T) {
	ca, caKey, caPEM, _ := issue(t, "test CA", nil, nil, nil, true)
	_, _, srvPEM, srvKeyPEM := issue(t, "registry.test", []string{"registry.test"}, ca, caKey, false)
	_, _, cliPEM, cliKeyPEM := issue(t, "client", nil, ca, caKey, false)
	srvCert, err := tls.X509KeyPair(srvPEM, srvKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()

	get := func(c *Client) error {
		rt, err := c.transport("registry.test")
		if err != nil {
			return err
		}
		tr := rt.(*http.Transport)
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		}
		resp, err := (&http.Client{Transport: tr}).Get("https://registry.test/v2/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	without, _ := New(Config{CertsDir: t.TempDir()})
	if err := get(without); err == nil {
		t.Fatal("a registry with an unknown CA was trusted")
	}
	dir := t.TempDir()
	host := filepath.Join(dir, "registry.test")
	os.MkdirAll(host, 0o755)
	os.WriteFile(filepath.Join(host, "ca.crt"), caPEM, 0o644)
	os.WriteFile(filepath.Join(host, "client.cert"), cliPEM, 0o644)
	os.WriteFile(filepath.Join(host, "client.key"), cliKeyPEM, 0o600)
	with, _ := New(Config{CertsDir: dir})
	if err := get(with); err != nil {
		t.Fatalf("with certs.d: %v", err)
	}
}
