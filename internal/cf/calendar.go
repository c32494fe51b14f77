package cf

import (
	"fmt"
	"math"
	"strings"
)

// Calendar is a CF calendar (CF §4.4.2), normalised by ParseCalendar.
//
// Year numbering: in proleptic_gregorian, noleap, all_leap and 360_day, year 0
// is the year before year 1 and negative years are allowed (astronomical
// numbering). In julian and standard, CF forbids negative years but keeps year
// 0 (a deprecated climatology marker); we treat year 0 as the Julian year just
// before year 1, so it is a leap year, and reject any negative year.
type Calendar string

// The CF calendars. Aliases ("gregorian", "", "365_day", "366_day") are mapped
// onto these by ParseCalendar.
const (
	Standard           Calendar = "standard"
	ProlepticGregorian Calendar = "proleptic_gregorian"
	Julian             Calendar = "julian"
	NoLeap             Calendar = "noleap"
	AllLeap            Calendar = "all_leap"
	Day360             Calendar = "360_day"
	NoCalendar         Calendar = "none"
)

const validCalendars = "standard, gregorian, proleptic_gregorian, julian, noleap, 365_day, all_leap, 366_day, 360_day, none"

// ParseCalendar normalises a CF calendar attribute. The empty string is the
// CF default, standard.
func ParseCalendar(s string) (Calendar, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "standard", "gregorian":
		return Standard, nil
	case "proleptic_gregorian":
		return ProlepticGregorian, nil
	case "julian":
		return Julian, nil
	case "noleap", "365_day":
		return NoLeap, nil
	case "all_leap", "366_day":
		return AllLeap, nil
	case "360_day":
		return Day360, nil
	case "none":
		return NoCalendar, nil
	}
	return "", fmt.Errorf("cf: unknown calendar %q (valid: %s)", s, validCalendars)
}

// maxYear bounds the years handled so that day numbers never overflow; it is
// far beyond any model run (±100 million years).
const maxYear = 100_000_000

// Julian day numbers of fixed points. Real-world calendars are mapped onto the
// Julian day number so that the standard calendar's switch from Julian to
// Gregorian is a single comparison.
const (
	gregMarch0 = 1721120 // JDN of 0000-03-01, proleptic Gregorian
	julMarch0  = 1721118 // JDN of 0000-03-01, Julian
	reformJDN  = 2299161 // JDN of 1582-10-15 Gregorian (day after 1582-10-04 Julian)
)

var monthDays = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func gregorianLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
func julianLeap(y int) bool    { return y%4 == 0 }

// known reports whether c is one of the normalised calendars with dates.
func (c Calendar) known() bool {
	switch c {
	case Standard, ProlepticGregorian, Julian, NoLeap, AllLeap, Day360:
		return true
	}
	return false
}

// yearZeroOnly reports calendars in which negative years are invalid.
func (c Calendar) yearZeroOnly() bool { return c == Standard || c == Julian }

// lastDay is the number of the last day of the month (31 for October 1582 in
// the standard calendar, even though only 21 of its days exist).
func (c Calendar) lastDay(year, month int) int {
	if month < 1 || month > 12 || !c.known() || (c.yearZeroOnly() && year < 0) {
		return 0
	}
	switch c {
	case Day360:
		return 30
	case AllLeap:
		if month == 2 {
			return 29
		}
	case NoLeap:
	case Julian:
		if month == 2 && julianLeap(year) {
			return 29
		}
	case ProlepticGregorian:
		if month == 2 && gregorianLeap(year) {
			return 29
		}
	case Standard:
		leap := julianLeap(year)
		if year > 1582 {
			leap = gregorianLeap(year)
		}
		if month == 2 && leap {
			return 29
		}
	}
	return monthDays[month]
}

// DaysInMonth returns how many days exist in the month: 21 for October 1582 in
// the standard calendar, and 0 for an invalid month, a negative year in the
// julian or standard calendar, or a calendar without dates.
func (c Calendar) DaysInMonth(year, month int) int {
	n := c.lastDay(year, month)
	if c == Standard && year == 1582 && month == 10 {
		n -= 10
	}
	return n
}

// DaysInYear returns how many days exist in the year (355 for 1582 in the
// standard calendar), or 0 where DaysInMonth would.
func (c Calendar) DaysInYear(year int) int {
	n := 0
	for m := 1; m <= 12; m++ {
		n += c.DaysInMonth(year, m)
	}
	return n
}

// Valid returns nil if d is a datetime of calendar c. Leap seconds are never
// valid: CF allows them only in the utc calendar, which is not supported.
func (c Calendar) Valid(d Date) error {
	if err := c.check(d); err != nil {
		return fmt.Errorf("cf: %w", err)
	}
	return nil
}

// check is Valid without the package prefix, for errors that add context.
func (c Calendar) check(d Date) error {
	if c == NoCalendar {
		return fmt.Errorf("calendar none has no dates (%s)", d)
	}
	if !c.known() {
		return fmt.Errorf("unknown calendar %q (valid: %s)", string(c), validCalendars)
	}
	bad := func(why string, args ...any) error {
		return fmt.Errorf("%s does not exist in the %s calendar: %s", d, c, fmt.Sprintf(why, args...))
	}
	switch {
	case d.Year < -maxYear || d.Year > maxYear:
		return bad("year out of range ±%d", maxYear)
	case d.Year < 0 && c.yearZeroOnly():
		return bad("negative years are not allowed")
	case d.Month < 1 || d.Month > 12:
		return bad("month %d out of range 1..12", d.Month)
	case d.Day < 1 || d.Day > c.lastDay(d.Year, d.Month):
		return bad("day %d out of range 1..%d", d.Day, c.lastDay(d.Year, d.Month))
	case c == Standard && d.Year == 1582 && d.Month == 10 && d.Day >= 5 && d.Day <= 14:
		return bad("1582-10-05 to 1582-10-14 were skipped by the Gregorian reform")
	case d.Hour < 0 || d.Hour > 23:
		return bad("hour %d out of range 0..23", d.Hour)
	case d.Minute < 0 || d.Minute > 59:
		return bad("minute %d out of range 0..59", d.Minute)
	case math.IsNaN(d.Second) || d.Second < 0 || d.Second >= 60:
		return bad("second %v out of range [0, 60)", d.Second)
	}
	return nil
}

func floorDiv64(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod64(a, b int64) int64 { return a - floorDiv64(a, b)*b }

// marchYearStart returns the days from 0000-03-01 to y-03-01. Counting years
// from March puts the leap day at the end of the year, so the leap days before
// year y are simply the leap years among 1..y (or -y+1..0, with floor division).
func marchYearStart(gregorian bool, y int64) int64 {
	n := 365*y + floorDiv64(y, 4)
	if gregorian {
		n += floorDiv64(y, 400) - floorDiv64(y, 100)
	}
	return n
}

// jdn returns the Julian day number of a Julian or Gregorian date.
func jdn(gregorian bool, y, m, d int) int64 {
	yy, mm := int64(y), int64(m)
	if mm <= 2 {
		yy--
		mm += 12
	}
	// (153*k+2)/5 is the number of days in the first k months starting with
	// March (31, 30, 31, 30, 31 repeating), so no month table is needed.
	n := marchYearStart(gregorian, yy) + (153*(mm-3)+2)/5 + int64(d) - 1
	if gregorian {
		return n + gregMarch0
	}
	return n + julMarch0
}

// fromJDN is the inverse of jdn.
func fromJDN(gregorian bool, j int64) (y, m, d int) {
	n := j - julMarch0
	yy := floorDiv64(4*n, 1461)
	if gregorian {
		n = j - gregMarch0
		yy = floorDiv64(400*n, 146097)
	}
	// The estimate is off by at most one year either way.
	for marchYearStart(gregorian, yy+1) <= n {
		yy++
	}
	for marchYearStart(gregorian, yy) > n {
		yy--
	}
	doy := n - marchYearStart(gregorian, yy)
	k := (5*doy + 2) / 153 // months since March
	d = int(doy-(153*k+2)/5) + 1
	m = int(k) + 3
	if m > 12 {
		m -= 12
		yy++
	}
	return int(yy), m, d
}

// dayNumber maps a valid date of c to a day count; consecutive days have
// consecutive numbers. The epoch differs between calendars.
func (c Calendar) dayNumber(y, m, d int) int64 {
	switch c {
	case ProlepticGregorian:
		return jdn(true, y, m, d)
	case Julian:
		return jdn(false, y, m, d)
	case Standard:
		if y > 1582 || y == 1582 && (m > 10 || m == 10 && d >= 15) {
			return jdn(true, y, m, d)
		}
		return jdn(false, y, m, d)
	}
	days := int64(0)
	for i := 1; i < m; i++ {
		days += int64(c.lastDay(y, i))
	}
	return int64(y)*int64(c.fixedYearLength()) + days + int64(d) - 1
}

// fromDayNumber is the inverse of dayNumber.
func (c Calendar) fromDayNumber(n int64) (y, m, d int) {
	switch c {
	case ProlepticGregorian:
		return fromJDN(true, n)
	case Julian:
		return fromJDN(false, n)
	case Standard:
		return fromJDN(n >= reformJDN, n)
	}
	length := int64(c.fixedYearLength())
	yy := floorDiv64(n, length)
	doy := int(n - yy*length)
	y = int(yy)
	for m = 1; m < 12 && doy >= c.lastDay(y, m); m++ {
		doy -= c.lastDay(y, m)
	}
	return y, m, doy + 1
}

// fixedYearLength is the year length of the idealised calendars.
func (c Calendar) fixedYearLength() int {
	switch c {
	case NoLeap:
		return 365
	case AllLeap:
		return 366
	case Day360:
		return 360
	}
	panic("cf: fixedYearLength of calendar " + string(c))
}

const (
	microsPerSecond = 1_000_000
	microsPerDay    = 86400 * microsPerSecond
)

// calInstant is a point in time within a calendar: a day number and the
// microseconds since the start of that day, in [0, microsPerDay).
type calInstant struct {
	day, micro int64
}

func (t calInstant) normalize() calInstant {
	return calInstant{t.day + floorDiv64(t.micro, microsPerDay), floorMod64(t.micro, microsPerDay)}
}

// toInstant converts a date already checked by Valid.
func (c Calendar) toInstant(d Date) calInstant {
	micro := int64(d.Hour)*3600*microsPerSecond + int64(d.Minute)*60*microsPerSecond +
		int64(math.Round(d.Second*microsPerSecond))
	return calInstant{c.dayNumber(d.Year, d.Month, d.Day), micro}.normalize()
}

// fromInstant converts back to a date, refusing years that c does not allow.
func (c Calendar) fromInstant(t calInstant) (Date, error) {
	t = t.normalize()
	y, m, d := c.fromDayNumber(t.day)
	if y < -maxYear || y > maxYear {
		return Date{}, fmt.Errorf("date out of range (year %d beyond ±%d)", y, maxYear)
	}
	if y < 0 && c.yearZeroOnly() {
		return Date{}, fmt.Errorf("%s is before year 0, which the %s calendar does not allow",
			Date{Year: y, Month: m, Day: d}, c)
	}
	us := t.micro
	hour := us / (3600 * microsPerSecond)
	us -= hour * 3600 * microsPerSecond
	minute := us / (60 * microsPerSecond)
	us -= minute * 60 * microsPerSecond
	return Date{Year: y, Month: m, Day: d, Hour: int(hour), Minute: int(minute),
		Second: float64(us) / microsPerSecond}, nil
}
