package processes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// fetcher downloads plain HTTP(S) NetCDF files, for inputs that are not
// OPeNDAP datasets: Debian's libnetcdf reads remote files only over DAP
// (it is built without byte-range support), so the file is copied to a
// temporary file first, within the job's read limit.
type fetcher struct {
	dir      string // where temporary copies go
	maxBytes int64  // 0: no limit
	client   *http.Client
	attempts int
	backoff  time.Duration
	files    map[string]string // URL -> local copy
}

func newFetcher(dir string, maxBytes int64) *fetcher {
	return &fetcher{dir: dir, maxBytes: maxBytes, attempts: 3, backoff: time.Second, files: map[string]string{},
		client: &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: 30 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second, IdleConnTimeout: 30 * time.Second,
		}}}
}

// netcdfMagic are the first bytes of the NetCDF formats: classic, 64-bit
// offset and CDF-5, and HDF5 (NetCDF-4).
var netcdfMagic = [][]byte{[]byte("CDF\x01"), []byte("CDF\x02"), []byte("CDF\x05"), []byte("\x89HDF\r\n\x1a\n")}

// errPermanent marks failures that another attempt would not change.
type errPermanent struct{ error }

// fetch returns a local copy of url, downloading it once per run.
func (f *fetcher) fetch(ctx context.Context, url string) (string, error) {
	if p, ok := f.files[url]; ok {
		return p, nil
	}
	var err error
	for attempt := 1; attempt <= f.attempts; attempt++ {
		var path string
		path, err = f.download(ctx, url)
		if err == nil {
			f.files[url] = path
			return path, nil
		}
		var perm errPermanent
		if errors.As(err, &perm) || ctx.Err() != nil || attempt == f.attempts {
			break
		}
		select { // transient: a 5xx, a reset connection; wait and try again
		case <-time.After(f.backoff << (attempt - 1)):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	var perm errPermanent
	if errors.As(err, &perm) {
		err = perm.error
	}
	return "", err
}

func (f *fetcher) download(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", errPermanent{err}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("could not be reached: %v", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return "", errPermanent{fmt.Errorf("was not found (HTTP %d)", resp.StatusCode)}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", errPermanent{fmt.Errorf("refused access (HTTP %d); this server cannot send credentials for inputs", resp.StatusCode)}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return "", fmt.Errorf("answered HTTP %d", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return "", errPermanent{fmt.Errorf("answered HTTP %d", resp.StatusCode)}
	}
	if f.maxBytes > 0 && resp.ContentLength > f.maxBytes {
		return "", errPermanent{fmt.Errorf("is %s, more than this server's limit of %s per job", humanBytes(resp.ContentLength), humanBytes(f.maxBytes))}
	}
	head := make([]byte, 8)
	n, _ := io.ReadFull(resp.Body, head)
	head = head[:n]
	if !isNetCDF(head) {
		return "", errPermanent{fmt.Errorf("is neither an OPeNDAP dataset nor a NetCDF file (it starts with %q)", printable(head))}
	}
	if err := os.MkdirAll(f.dir, 0o750); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(f.dir, "input-*.nc")
	if err != nil {
		return "", err
	}
	body := io.Reader(resp.Body)
	if f.maxBytes > 0 {
		body = io.LimitReader(resp.Body, f.maxBytes-int64(len(head))+1)
	}
	written, err := io.Copy(tmp, io.MultiReader(bytes.NewReader(head), body))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && f.maxBytes > 0 && written > f.maxBytes {
		err = errPermanent{fmt.Errorf("is larger than this server's limit of %s per job", humanBytes(f.maxBytes))}
	}
	if err == nil && resp.ContentLength >= 0 && written != resp.ContentLength {
		err = fmt.Errorf("was cut off after %d of %d bytes", written, resp.ContentLength)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

func isNetCDF(head []byte) bool {
	for _, m := range netcdfMagic {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}

func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 32 || r > 126 {
			return '.'
		}
		return r
	}, string(b))
}

// close removes the downloaded copies.
func (f *fetcher) close() {
	for _, p := range f.files {
		os.Remove(p)
	}
}
