package authtest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BrowserTimeout bounds everything one NewBrowser context does, so a page
// that never shows an element fails the test instead of hanging it.
const BrowserTimeout = 90 * time.Second

// NewBrowser starts headless Chromium (/usr/bin/chromium) with a fresh
// profile, so its own cookies, and returns a chromedp context for its first
// tab. The browser is closed at tb.Cleanup.
func NewBrowser(tb testing.TB) context.Context {
	tb.Helper()
	requireExecutable(tb, ChromiumPath, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.NoSandbox, // tests often run as root, where the sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true), // everything is on loopback
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(bctx, BrowserTimeout)
	tb.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	// Start it here, so a browser that cannot start fails here.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("authtest: start chromium: %v (%s)", err, setupHint)
	}
	return ctx
}

// BrowserLogin fills in and submits the login form that the browser shows
// (either provider's, or KeyCloak's, which has the same element ids) as
// username. It does not wait for what follows.
func (p *Provider) BrowserLogin(tb testing.TB, ctx context.Context, username string) {
	tb.Helper()
	err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), p.users[username].Password),
		chromedp.Click(chromedp.ID("kc-login")),
	)
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		tb.Fatalf("authtest: browser login as %q at %s: %v", username, loc, err)
	}
}
