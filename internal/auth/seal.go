package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sealer encrypts and authenticates small secrets: session cookies, the
// login state, and registration access tokens at rest. Each use names a
// purpose, bound as associated data, so a value sealed for one purpose
// cannot be replayed as another.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer makes a Sealer from a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("the key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// LoadKey returns the key given in base64 (AUTH_SECRET_KEY), or the one kept
// in path, creating it (mode 0600) on first use so that sessions and stored
// tokens survive restarts.
func LoadKey(configured, path string) ([]byte, error) {
	if configured != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(configured))
		if err != nil || len(key) != 32 {
			return nil, errors.New("AUTH_SECRET_KEY must be 32 bytes in base64 (openssl rand -base64 32)")
		}
		return key, nil
	}
	if b, err := os.ReadFile(path); err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s does not hold a 32-byte base64 key", path)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process made it first
			return LoadKey("", path)
		}
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		return nil, err
	}
	return key, nil
}

// Seal encrypts plaintext for purpose; the result is URL-safe text.
func (s *Sealer) Seal(purpose string, plaintext []byte) string {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	ad := sha256.Sum256([]byte(purpose))
	out := s.aead.Seal(nonce, nonce, plaintext, ad[:])
	return base64.RawURLEncoding.EncodeToString(out)
}

// ErrBadSeal is returned for a value that was not sealed by this key for
// this purpose, or was altered.
var ErrBadSeal = errors.New("the value was not sealed by this server or was altered")

// Open decrypts a value made by Seal with the same purpose.
func (s *Sealer) Open(purpose, sealed string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return nil, ErrBadSeal
	}
	ad := sha256.Sum256([]byte(purpose))
	n := s.aead.NonceSize()
	out, err := s.aead.Open(nil, b[:n], b[n:], ad[:])
	if err != nil {
		return nil, ErrBadSeal
	}
	return out, nil
}

// randomString returns n random bytes as URL-safe text, for state, nonce,
// PKCE verifiers and CSRF tokens.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
