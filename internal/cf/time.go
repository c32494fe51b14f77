package cf

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Date is a calendar-free broken-down date and time. It has no time zone: CF
// times are UTC unless the units say otherwise, and ParseTimeUnits converts a
// reference time with an offset to UTC.
type Date struct {
	Year, Month, Day, Hour, Minute int
	Second                         float64
}

// String formats d as ISO 8601, "1980-01-01T00:00:00", with fractional
// seconds only when non-zero. Years have at least four digits; negative years
// and years above 9999 carry a sign (ISO 8601 expanded form) so that
// ParseTimestamp reads them back.
func (d Date) String() string { return d.format('T') }

func (d Date) format(sep byte) string {
	var b strings.Builder
	switch {
	case d.Year < 0:
		fmt.Fprintf(&b, "-%04d", -d.Year)
	case d.Year > 9999:
		fmt.Fprintf(&b, "+%d", d.Year)
	default:
		fmt.Fprintf(&b, "%04d", d.Year)
	}
	fmt.Fprintf(&b, "-%02d-%02d%c%02d:%02d:", d.Month, d.Day, sep, d.Hour, d.Minute)
	if d.Second == math.Trunc(d.Second) {
		fmt.Fprintf(&b, "%02d", int(d.Second))
	} else {
		s := strconv.FormatFloat(d.Second, 'f', -1, 64)
		if d.Second >= 0 && d.Second < 10 {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	return b.String()
}

// Compare returns -1, 0 or 1 as d is before, equal to or after e, comparing
// field by field (which orders valid dates of any one calendar).
func (d Date) Compare(e Date) int {
	for _, p := range [...][2]int{{d.Year, e.Year}, {d.Month, e.Month}, {d.Day, e.Day}, {d.Hour, e.Hour}, {d.Minute, e.Minute}} {
		if p[0] != p[1] {
			if p[0] < p[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case d.Second < e.Second:
		return -1
	case d.Second > e.Second:
		return 1
	}
	return 0
}

type timeUnit uint8

const (
	unitInvalid timeUnit = iota
	unitMicrosecond
	unitMillisecond
	unitSecond
	unitMinute
	unitHour
	unitDay
	unitMonth
	unitYear
)

var unitNames = [...]string{"", "microseconds", "milliseconds", "seconds", "minutes", "hours", "days", "months", "years"}

// unitMicros is the exact length of the fixed units in microseconds.
var unitMicros = [...]int64{0, 1, 1000, microsPerSecond, 60 * microsPerSecond, 3600 * microsPerSecond, microsPerDay, 0, 0}

var unitWords = map[string]timeUnit{
	"us": unitMicrosecond, "usec": unitMicrosecond, "usecs": unitMicrosecond,
	"microsecond": unitMicrosecond, "microseconds": unitMicrosecond,
	"ms": unitMillisecond, "msec": unitMillisecond, "msecs": unitMillisecond,
	"millisecond": unitMillisecond, "milliseconds": unitMillisecond,
	"s": unitSecond, "sec": unitSecond, "secs": unitSecond, "second": unitSecond, "seconds": unitSecond,
	"min": unitMinute, "mins": unitMinute, "minute": unitMinute, "minutes": unitMinute,
	"h": unitHour, "hr": unitHour, "hrs": unitHour, "hour": unitHour, "hours": unitHour,
	"d": unitDay, "day": unitDay, "days": unitDay,
	"month": unitMonth, "months": unitMonth,
	"yr": unitYear, "yrs": unitYear, "year": unitYear, "years": unitYear,
}

// UDUNITS (quoted by CF §4.4.1) defines a year as exactly 365.242198781 days
// and a month as exactly year/12; neither is a calendar year or month.
const (
	udunitsYearDays  = 365.242198781
	udunitsMonthDays = udunitsYearDays / 12
)

// TimeUnits is a parsed CF time "units" attribute together with its calendar.
// It is a comparable value; the zero value is not usable.
type TimeUnits struct {
	unit timeUnit
	cal  Calendar
	ref  Date       // reference datetime, converted to UTC
	at   calInstant // ref as a day number and microsecond of day in cal
}

// ParseTimeUnits parses a CF time units attribute such as
// "days since 1850-01-01 00:00:00" and a calendar attribute (see
// ParseCalendar). The reference may carry a time zone offset
// ("1970-01-01 00:00:00 -6:00", CF §4.4.1), which is subtracted so that the
// stored reference is UTC. Units of month and year follow UDUNITS (fixed
// lengths, not calendar months), except in the 360_day calendar, where a month
// is exactly 30 days and a year 360 days: there those lengths are exact and
// are what "months since" means in practice.
func ParseTimeUnits(units, calendar string) (TimeUnits, error) {
	cal, err := ParseCalendar(calendar)
	if err != nil {
		return TimeUnits{}, err
	}
	fail := func(format string, args ...any) (TimeUnits, error) {
		return TimeUnits{}, fmt.Errorf("cf: invalid time units %q: %s", units, fmt.Sprintf(format, args...))
	}
	word, rest := cutWord(units)
	if word == "" {
		return fail("empty")
	}
	unit := unitWords[strings.ToLower(word)]
	if unit == unitInvalid {
		return fail("unknown time unit %q", word)
	}
	since, rest := cutWord(rest)
	if !strings.EqualFold(since, "since") {
		return fail(`expected "<unit> since <reference datetime>"`)
	}
	ref, offsetMinutes, err := parseReference(strings.TrimSpace(rest))
	if err != nil {
		return fail("%v", err)
	}
	// With calendar none the attribute stays readable (checked as
	// proleptic_gregorian); Decode and Encode refuse it.
	dateCal := cal
	if cal == NoCalendar {
		dateCal = ProlepticGregorian
	}
	if err := dateCal.check(ref); err != nil {
		return fail("reference %v", err)
	}
	u := TimeUnits{unit: unit, cal: cal, ref: ref, at: dateCal.toInstant(ref)}
	if offsetMinutes != 0 {
		u.at.micro -= int64(offsetMinutes) * 60 * microsPerSecond
		u.at = u.at.normalize()
		if u.ref, err = dateCal.fromInstant(u.at); err != nil {
			return fail("reference in UTC: %v", err)
		}
	}
	return u, nil
}

// cutWord splits off the first whitespace-separated word of s.
func cutWord(s string) (field, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// Calendar returns the calendar of u.
func (u TimeUnits) Calendar() Calendar { return u.cal }

// Reference returns the reference datetime of u, in UTC.
func (u TimeUnits) Reference() Date { return u.ref }

// String returns the canonical form, e.g. "days since 1850-01-01 00:00:00".
func (u TimeUnits) String() string {
	if u.unit == unitInvalid {
		return ""
	}
	return unitNames[u.unit] + " since " + u.ref.format(' ')
}

// exactMicros returns the unit length in microseconds when it is an integer.
func (u TimeUnits) exactMicros() (int64, bool) {
	switch {
	case u.cal == Day360 && u.unit == unitMonth:
		return 30 * microsPerDay, true
	case u.cal == Day360 && u.unit == unitYear:
		return 360 * microsPerDay, true
	}
	m := unitMicros[u.unit]
	return m, m != 0
}

func (u TimeUnits) unitDays() float64 {
	if u.unit == unitMonth {
		return udunitsMonthDays
	}
	return udunitsYearDays
}

func (u TimeUnits) usable() error {
	switch {
	case u.unit == unitInvalid:
		return errors.New("cf: time units not initialised (use ParseTimeUnits)")
	case u.cal == NoCalendar:
		return fmt.Errorf("cf: time units %q have calendar none: there are no dates to convert", u.String())
	}
	return nil
}

// maxDays bounds offsets before they are converted to integers; it exceeds
// the day span of ±maxYear in every calendar, so fromInstant reports the
// range error for anything in between.
const maxDays = 1e11

// Decode converts a time coordinate value to a date in u's calendar. Whole
// units are added as integers; only the fraction of a unit goes through
// floating point, and the result is rounded to the nearest microsecond (so
// 0.5 days is exactly 12:00:00).
func (u TimeUnits) Decode(v float64) (Date, error) {
	if err := u.usable(); err != nil {
		return Date{}, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Date{}, fmt.Errorf("cf: cannot decode time value %v", v)
	}
	var off calInstant
	if U, ok := u.exactMicros(); ok {
		var err error
		if off, err = splitUnits(v, U); err != nil {
			return Date{}, err
		}
	} else {
		total := v * u.unitDays()
		if math.Abs(total) > maxDays {
			return Date{}, fmt.Errorf("cf: time value %v %s out of range", v, unitNames[u.unit])
		}
		days := math.Floor(total)
		off = calInstant{int64(days), int64(math.Round((total - days) * microsPerDay))}
	}
	d, err := u.cal.fromInstant(calInstant{u.at.day + off.day, u.at.micro + off.micro})
	if err != nil {
		return Date{}, fmt.Errorf("cf: decoding %v with %q: %w", v, u.String(), err)
	}
	return d, nil
}

// splitUnits converts v units of U microseconds to an instant offset without
// ever multiplying a large value in floating point. Every exact unit either
// divides a day or is a whole number of days.
func splitUnits(v float64, U int64) (calInstant, error) {
	whole := math.Floor(v)
	frac := v - whole // exact for floats
	limit := math.Min(maxDays*microsPerDay/float64(U), 1<<62)
	if math.Abs(whole) > limit {
		return calInstant{}, fmt.Errorf("cf: time offset %v out of range", v)
	}
	w := int64(whole)
	fracMicros := int64(math.Round(frac * float64(U)))
	var t calInstant
	if U >= microsPerDay {
		t = calInstant{w * (U / microsPerDay), fracMicros}
	} else {
		perDay := microsPerDay / U
		t = calInstant{floorDiv64(w, perDay), floorMod64(w, perDay)*U + fracMicros}
	}
	return t.normalize(), nil
}

// Encode converts a date of u's calendar to a time coordinate value. The day
// and microsecond differences are exact integers; the division by the unit
// happens last.
func (u TimeUnits) Encode(d Date) (float64, error) {
	if err := u.usable(); err != nil {
		return 0, err
	}
	if err := u.cal.check(d); err != nil {
		return 0, fmt.Errorf("cf: encoding with %q: %w", u.String(), err)
	}
	t := u.cal.toInstant(d)
	dd, dm := t.day-u.at.day, t.micro-u.at.micro // dm in (-1 day, 1 day)
	U, ok := u.exactMicros()
	switch {
	case !ok:
		return (float64(dd) + float64(dm)/microsPerDay) / u.unitDays(), nil
	case U >= microsPerDay:
		k := U / microsPerDay
		q, r := floorDiv64(dd, k), floorMod64(dd, k)*microsPerDay+dm
		return float64(q) + float64(r)/float64(U), nil
	default:
		perDay := microsPerDay / U
		if dd > math.MaxInt64/perDay-1 || dd < -(math.MaxInt64/perDay-1) {
			return float64(dd)*float64(perDay) + float64(dm)/float64(U), nil
		}
		q := dd*perDay + dm/U
		return float64(q) + float64(dm%U)/float64(U), nil
	}
}

// parseReference parses the reference datetime of a units attribute:
// y-m-d [H:M[:S] [Z]] (CF §4.4.1), where y may be signed, the time may follow
// a "T", and the zone Z is "Z", "UTC" or an offset H, H:M, HMM or HHMM with an
// optional sign. It returns the offset in minutes east of UTC.
func parseReference(s string) (Date, int, error) {
	var d Date
	p := &dateScanner{s: s}
	if s == "" {
		return d, 0, errors.New("missing reference datetime")
	}
	bad := func() (Date, int, error) {
		return Date{}, 0, fmt.Errorf("cannot parse reference datetime %q", s)
	}
	var ok bool
	if d.Year, ok = p.signedInt(9); !ok || !p.byte('-') {
		return bad()
	}
	if d.Month, ok = p.digits(1, 2); !ok || !p.byte('-') {
		return bad()
	}
	if d.Day, ok = p.digits(1, 2); !ok {
		return bad()
	}
	if p.done() {
		return d, 0, nil
	}
	if !p.byte('T') && !p.byte('t') && !p.spaces() {
		return bad()
	}
	if p.zoneName() {
		return d, 0, checkRefEnd(p, s)
	}
	if d.Hour, ok = p.digits(1, 2); !ok || !p.byte(':') {
		return bad()
	}
	if d.Minute, ok = p.digits(1, 2); !ok {
		return bad()
	}
	if p.byte(':') {
		var sec float64
		if sec, ok = p.seconds(); !ok {
			return bad()
		}
		d.Second = sec
	}
	spaced := p.spaces()
	if p.done() {
		return d, 0, nil
	}
	if p.zoneName() {
		return d, 0, checkRefEnd(p, s)
	}
	// An offset glued to the time needs a sign, or it would read as digits
	// of the seconds.
	if !spaced && !p.peek('+') && !p.peek('-') {
		return bad()
	}
	off, ok := p.offset()
	if !ok {
		return bad()
	}
	return d, off, checkRefEnd(p, s)
}

func checkRefEnd(p *dateScanner, s string) error {
	p.spaces()
	if !p.done() {
		return fmt.Errorf("unexpected %q after reference datetime in %q", p.s[p.i:], s)
	}
	return nil
}

// dateScanner is a tiny cursor over ASCII date text.
type dateScanner struct {
	s string
	i int
}

func (p *dateScanner) done() bool { return p.i >= len(p.s) }

func (p *dateScanner) peek(c byte) bool { return p.i < len(p.s) && p.s[p.i] == c }

func (p *dateScanner) byte(c byte) bool {
	if p.peek(c) {
		p.i++
		return true
	}
	return false
}

func (p *dateScanner) spaces() bool {
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
	return p.i > start
}

func isDateDigit(c byte) bool { return c >= '0' && c <= '9' }

// digits reads min..max decimal digits.
func (p *dateScanner) digits(min, max int) (int, bool) {
	n, start := 0, p.i
	for p.i < len(p.s) && p.i-start < max && isDateDigit(p.s[p.i]) {
		n = n*10 + int(p.s[p.i]-'0')
		p.i++
	}
	return n, p.i-start >= min
}

// signedInt reads an optionally signed integer of up to max digits, refusing
// longer runs rather than silently splitting them.
func (p *dateScanner) signedInt(max int) (int, bool) {
	neg := p.byte('-')
	if !neg {
		p.byte('+')
	}
	n, ok := p.digits(1, max)
	if !ok || (p.i < len(p.s) && isDateDigit(p.s[p.i])) {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// seconds reads S or S.fff. The fraction is truncated to the microsecond,
// the resolution of every time in this package, from its decimal digits:
// rounding could turn 59.9999999 into a second 60 that does not exist.
func (p *dateScanner) seconds() (float64, bool) {
	whole, ok := p.digits(1, 2)
	if !ok {
		return 0, false
	}
	micro := int64(whole) * microsPerSecond
	if p.byte('.') {
		start := p.i
		for scale := int64(microsPerSecond / 10); p.i < len(p.s) && isDateDigit(p.s[p.i]); p.i++ {
			micro += int64(p.s[p.i]-'0') * scale
			scale /= 10
		}
		if p.i == start {
			return 0, false
		}
	}
	return float64(micro) / microsPerSecond, true
}

// zoneName consumes "Z" or "UTC" (any case) when that is all that is left
// apart from trailing spaces.
func (p *dateScanner) zoneName() bool {
	rest := strings.TrimRight(p.s[p.i:], " \t")
	if strings.EqualFold(rest, "Z") || strings.EqualFold(rest, "UTC") {
		p.i += len(rest)
		return true
	}
	return false
}

// offset reads a CF time zone offset and returns it in minutes.
func (p *dateScanner) offset() (int, bool) {
	sign := 1
	if p.byte('-') {
		sign = -1
	} else {
		p.byte('+')
	}
	start := p.i
	h, ok := p.digits(1, 4)
	if !ok {
		return 0, false
	}
	m := 0
	switch n := p.i - start; {
	case n <= 2 && p.byte(':'):
		if m, ok = p.digits(1, 2); !ok {
			return 0, false
		}
	case n == 3 || n == 4:
		h, m = h/100, h%100
	}
	if h > 23 || m > 59 {
		return 0, false
	}
	return sign * (60*h + m), true
}
