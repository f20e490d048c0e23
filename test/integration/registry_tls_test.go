package integration

import (
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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "berth test registry"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestRegistryTLS: `registry serve --tls-cert --tls-key` serves HTTPS
// with that certificate (a client trusting it is answered; plain HTTP is
// not), and a daemon pushes and pulls over it (127.0.0.0/8 is insecure
// by default, as in Docker, so the daemon does not need the CA).
func TestRegistryTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	d, reg := daemonAndRegistry(t, "--tls-cert", certFile, "--tls-key", keyFile)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get("https://" + reg.addr + "/v2/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("https /v2/ with the CA: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err := http.Get("http://" + reg.addr + "/v2/"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Fatal("the TLS registry answered plain HTTP")
		}
		resp.Body.Close()
	}
	ref := reg.addr + "/secure/busybox:1"
	must(t, d.berth("tag", "busybox", ref))
	if out := must(t, d.berth("push", ref)); !strings.Contains(out, "1: digest: sha256:") {
		t.Fatalf("push over TLS:\n%s", out)
	}
	must(t, d.berth("rmi", ref, "busybox"))
	if out := must(t, d.docker("pull", ref)); !strings.Contains(out, "Status: Downloaded newer image for "+ref) {
		t.Fatalf("pull over TLS:\n%s", out)
	}
	if got := must(t, d.berth("run", "--rm", ref, "echo", "over tls")); got != "over tls" {
		t.Fatalf("run: %q", got)
	}
}
