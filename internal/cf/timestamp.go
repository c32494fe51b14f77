package cf

import (
	"fmt"
	"math"
	"strings"
)

// stampResolution is the precision a user timestamp was written to.
type stampResolution int

const (
	resYear stampResolution = iota
	resMonth
	resDay
	resHour
	resMinute
	resInstant
)

// ParseTimestamp parses a user-supplied timestamp as a period: "1980" is the
// whole year, "1980-06" the month, "1980-06-15" the day, "1980-06-15 12" or
// "1980-06-15T12" the hour, "1980-06-15T12:30" the minute, and
// "1980-06-15T12:30:15" (optionally with a fraction of any length, truncated
// to the microsecond) the instant. It returns the first instant of the period and the
// first instant after it (end exclusive), computed in calendar c; an instant's
// period is the one microsecond starting at it, the stampResolution of decoded
// times.
//
// The date and time are separated by "T" or spaces, or by nothing when a
// two-digit day is directly followed by HH:MM ("1980-01-0100:00", as sent by
// clients that strip spaces). A trailing "Z" is allowed. Years of more than
// four digits, and negative years, need a sign (ISO 8601 expanded form).
func ParseTimestamp(s string, c Calendar) (start, end Date, err error) {
	fail := func(format string, args ...any) (Date, Date, error) {
		return Date{}, Date{}, fmt.Errorf("cf: invalid timestamp %q in the %s calendar: %s", s, c, fmt.Sprintf(format, args...))
	}
	if !c.known() {
		if c == NoCalendar {
			return fail("calendar none has no dates")
		}
		return fail("unknown calendar (valid: %s)", validCalendars)
	}
	d, res, ok := scanTimestamp(s)
	if !ok {
		return fail("expected YYYY[-MM[-DD[THH[:MM[:SS[.fff]]]]]]")
	}
	if err := c.check(d); err != nil {
		return fail("%v", err)
	}
	t := c.toInstant(d)
	switch res {
	case resYear:
		t = calInstant{t.day + int64(c.DaysInYear(d.Year)), 0}
	case resMonth:
		t = calInstant{t.day + int64(c.DaysInMonth(d.Year, d.Month)), 0}
	case resDay:
		t.day++
	case resHour:
		t.micro += 3600 * microsPerSecond
	case resMinute:
		t.micro += 60 * microsPerSecond
	case resInstant:
		t.micro++
	}
	if end, err = c.fromInstant(t); err != nil {
		return fail("end of period: %v", err)
	}
	return d, end, nil
}

// scanTimestamp parses the syntax of ParseTimestamp; missing fields are those
// of the start of the period.
func scanTimestamp(s string) (Date, stampResolution, bool) {
	d := Date{Month: 1, Day: 1}
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		s = s[:len(s)-1]
	}
	p := &dateScanner{s: s}
	var ok bool
	if p.peek('+') || p.peek('-') {
		d.Year, ok = p.signedInt(9)
	} else {
		d.Year, ok = p.digits(1, 4)
		ok = ok && !(p.i < len(s) && isDateDigit(s[p.i]))
	}
	if !ok {
		return d, 0, false
	}
	if p.done() {
		return d, resYear, true
	}
	if !p.byte('-') {
		return d, 0, false
	}
	if d.Month, ok = p.digits(1, 2); !ok {
		return d, 0, false
	}
	if p.done() {
		return d, resMonth, true
	}
	if !p.byte('-') {
		return d, 0, false
	}
	if d.Day, ok = p.digits(1, 2); !ok {
		return d, 0, false
	}
	if p.done() {
		return d, resDay, true
	}
	// Glued only as "YYYY-MM-DDHH:MM": anything looser would be ambiguous.
	glued := p.i == len("YYYY-MM-DD") && isDateDigit(s[0]) && isDateDigit(s[p.i])
	if !glued && !p.byte('T') && !p.byte('t') && !p.spaces() {
		return d, 0, false
	}
	minHour := 1
	if glued {
		minHour = 2
	}
	if d.Hour, ok = p.digits(minHour, 2); !ok {
		return d, 0, false
	}
	if p.done() && !glued {
		return d, resHour, true
	}
	if !p.byte(':') {
		return d, 0, false
	}
	if d.Minute, ok = p.digits(1, 2); !ok {
		return d, 0, false
	}
	if p.done() {
		return d, resMinute, true
	}
	if !p.byte(':') {
		return d, 0, false
	}
	if d.Second, ok = p.seconds(); !ok || !p.done() {
		return d, 0, false
	}
	return d, resInstant, true
}

// AddSeconds returns d shifted by secs seconds in calendar c, rounded to the
// microsecond. Whole seconds are added exactly.
func (c Calendar) AddSeconds(d Date, secs float64) (Date, error) {
	if err := c.check(d); err != nil {
		return Date{}, fmt.Errorf("cf: adding %v s: %w", secs, err)
	}
	if math.IsNaN(secs) || math.IsInf(secs, 0) {
		return Date{}, fmt.Errorf("cf: cannot add %v seconds to %s", secs, d)
	}
	off, err := splitUnits(secs, microsPerSecond)
	if err != nil {
		return Date{}, err
	}
	t := c.toInstant(d)
	r, err := c.fromInstant(calInstant{t.day + off.day, t.micro + off.micro})
	if err != nil {
		return Date{}, fmt.Errorf("cf: adding %v s to %s: %w", secs, d, err)
	}
	return r, nil
}
