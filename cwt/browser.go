package cwt

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// ErrNoBrowser means there is no browser to open here: the address must be
// opened by hand.
var ErrNoBrowser = errors.New("no browser available")

// OpenBrowser opens u in the user's browser: $BROWSER if set, otherwise
// xdg-open (only with a graphical session, so that a terminal browser
// never takes over the terminal) or macOS's open.
func OpenBrowser(u string) error {
	var name string
	var args []string
	if b := strings.TrimSpace(os.Getenv("BROWSER")); b != "" {
		fields := strings.Fields(b)
		name, args = fields[0], fields[1:]
	} else {
		switch runtime.GOOS {
		case "darwin":
			name = "open"
		case "windows":
			name, args = "rundll32", []string{"url.dll,FileProtocolHandler"}
		default:
			if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
				return ErrNoBrowser
			}
			name = "xdg-open"
		}
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return ErrNoBrowser
	}
	cmd := exec.Command(path, append(args, u)...)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it; the browser lives on
	return nil
}
