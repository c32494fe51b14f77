package main

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"

	"github.com/computewps/computewps/cwt"
)

// progressView shows a job's progress: a bar with the server's percent and
// latest message on a terminal, one plain line per change otherwise (logs,
// pipes, CI).
type progressView struct {
	w     io.Writer
	label string
	bar   *progressbar.ProgressBar
}

func newProgress(w io.Writer, tty bool, label string) *progressView {
	p := &progressView{w: w, label: label}
	if tty {
		p.bar = progressbar.NewOptions(100,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetDescription(label),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *progressView) update(st *cwt.Status) {
	if p.bar == nil {
		// The outcome is printed once the wait is over, not here too.
		if !st.State.Done() {
			fmt.Fprintf(p.w, "%s: %s\n", p.label, st)
		}
		return
	}
	msg := st.Message
	if len([]rune(msg)) > 40 {
		msg = string([]rune(msg)[:39]) + "…"
	}
	p.bar.Describe(fmt.Sprintf("%s %s %s", p.label, shortState(st.State), msg))
	_ = p.bar.Set(st.Percent)
}

// finish removes the bar so the result is printed on a clean line.
func (p *progressView) finish() {
	if p.bar != nil {
		_ = p.bar.Finish() // cleared on finish: the result follows on a clean line
	}
}

func shortState(s cwt.State) string {
	switch s {
	case cwt.Accepted:
		return "queued"
	case cwt.Started:
		return "running"
	case cwt.Paused:
		return "paused"
	case cwt.Succeeded:
		return "succeeded"
	case cwt.Failed:
		return "failed"
	}
	return string(s)
}
