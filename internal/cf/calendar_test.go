package cf

import (
	"strings"
	"testing"
	"time"
)

var allCalendars = []Calendar{Standard, ProlepticGregorian, Julian, NoLeap, AllLeap, Day360}

func TestParseCalendar(t *testing.T) {
	cases := []struct {
		in   string
		want Calendar
	}{
		{"", Standard},
		{"standard", Standard},
		{"gregorian", Standard},
		{"  Gregorian ", Standard},
		{"STANDARD", Standard},
		{"proleptic_gregorian", ProlepticGregorian},
		{"Proleptic_Gregorian", ProlepticGregorian},
		{"julian", Julian},
		{"noleap", NoLeap},
		{"365_day", NoLeap},
		{"NoLeap", NoLeap},
		{"all_leap", AllLeap},
		{"366_day", AllLeap},
		{"360_day", Day360},
		{"\t360_DAY\n", Day360},
		{"none", NoCalendar},
	}
	for _, c := range cases {
		got, err := ParseCalendar(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseCalendar(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"gregorian_proleptic", "365", "utc", "366 day", "julian calendar"} {
		_, err := ParseCalendar(bad)
		if err == nil {
			t.Errorf("ParseCalendar(%q) succeeded", bad)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, `"`+bad+`"`) || !strings.Contains(msg, "proleptic_gregorian") || !strings.Contains(msg, "360_day") {
			t.Errorf("ParseCalendar(%q) error %q should quote the value and list the valid calendars", bad, msg)
		}
	}
}

func TestDaysInMonth(t *testing.T) {
	cases := []struct {
		cal         Calendar
		year, month int
		want        int
	}{
		// standard: Julian rules up to 1582, Gregorian after, 10 days dropped in October 1582.
		{Standard, 2000, 2, 29},
		{Standard, 1900, 2, 28},
		{Standard, 2004, 2, 29},
		{Standard, 2001, 2, 28},
		{Standard, 1500, 2, 29},
		{Standard, 1582, 10, 21},
		{Standard, 1582, 9, 30},
		{Standard, 1582, 11, 30},
		{Standard, 1600, 2, 29},
		{Standard, 1700, 2, 28},
		{Standard, 0, 2, 29}, // year 0 is the Julian leap year before year 1
		{Standard, 4, 2, 29},
		{Standard, -1, 1, 0}, // negative years do not exist
		{Standard, 2001, 1, 31},
		{Standard, 2001, 4, 30},
		{Standard, 2001, 12, 31},
		{ProlepticGregorian, 1500, 2, 28},
		{ProlepticGregorian, 1582, 10, 31},
		{ProlepticGregorian, 1600, 2, 29},
		{ProlepticGregorian, 1900, 2, 28},
		{ProlepticGregorian, 2000, 2, 29},
		{ProlepticGregorian, 0, 2, 29},
		{ProlepticGregorian, -4, 2, 29},
		{ProlepticGregorian, -1, 2, 28},
		{ProlepticGregorian, -100, 2, 28},
		{ProlepticGregorian, -400, 2, 29},
		{Julian, 1900, 2, 29},
		{Julian, 1700, 2, 29},
		{Julian, 2001, 2, 28},
		{Julian, 1582, 10, 31},
		{Julian, 0, 2, 29},
		{Julian, -4, 2, 0},
		{NoLeap, 2000, 2, 28},
		{NoLeap, 2004, 2, 28},
		{NoLeap, 2000, 1, 31},
		{NoLeap, 0, 2, 28},
		{AllLeap, 2001, 2, 29},
		{AllLeap, 1900, 2, 29},
		{AllLeap, -3, 2, 29},
		{AllLeap, 2001, 6, 30},
		{Day360, 2000, 2, 30},
		{Day360, 2000, 1, 30},
		{Day360, 2000, 12, 30},
		{Day360, -7, 7, 30},
		{Standard, 2000, 0, 0},
		{Day360, 2000, 13, 0},
		{NoCalendar, 2000, 1, 0},
		{Calendar("gregorian"), 2000, 1, 0}, // not normalised
	}
	for _, c := range cases {
		if got := c.cal.DaysInMonth(c.year, c.month); got != c.want {
			t.Errorf("%s.DaysInMonth(%d, %d) = %d, want %d", c.cal, c.year, c.month, got, c.want)
		}
	}
}

func TestDaysInYear(t *testing.T) {
	cases := []struct {
		cal  Calendar
		year int
		want int
	}{
		{Standard, 2000, 366},
		{Standard, 1900, 365},
		{Standard, 1500, 366},
		{Standard, 1582, 355},
		{Standard, 0, 366},
		{Standard, -1, 0},
		{ProlepticGregorian, 1500, 365},
		{ProlepticGregorian, 1582, 365},
		{ProlepticGregorian, 2000, 366},
		{ProlepticGregorian, 0, 366},
		{Julian, 1900, 366},
		{Julian, 1582, 365},
		{Julian, 2001, 365},
		{NoLeap, 2000, 365},
		{AllLeap, 2001, 366},
		{Day360, 2000, 360},
		{Day360, -5, 360},
		{NoCalendar, 2000, 0},
	}
	for _, c := range cases {
		if got := c.cal.DaysInYear(c.year); got != c.want {
			t.Errorf("%s.DaysInYear(%d) = %d, want %d", c.cal, c.year, got, c.want)
		}
	}
}

func TestValid(t *testing.T) {
	day := func(y, m, d int) Date { return Date{Year: y, Month: m, Day: d} }
	cases := []struct {
		cal Calendar
		d   Date
		ok  bool
	}{
		{Standard, day(2001, 2, 29), false},
		{Standard, day(2000, 2, 29), true},
		{Standard, day(1900, 2, 29), false},
		{Standard, day(1500, 2, 29), true},
		{Standard, day(1582, 10, 4), true},
		{Standard, day(1582, 10, 5), false},
		{Standard, day(1582, 10, 10), false},
		{Standard, day(1582, 10, 14), false},
		{Standard, day(1582, 10, 15), true},
		{Standard, day(1582, 10, 31), true},
		{Standard, day(0, 1, 1), true},
		{Standard, day(-1, 12, 31), false},
		{ProlepticGregorian, day(1582, 10, 10), true},
		{ProlepticGregorian, day(1900, 2, 29), false},
		{ProlepticGregorian, day(-1, 1, 1), true},
		{ProlepticGregorian, day(0, 2, 29), true},
		{Julian, day(1900, 2, 29), true},
		{Julian, day(1582, 10, 10), true},
		{Julian, day(-1, 1, 1), false},
		{NoLeap, day(2000, 2, 29), false},
		{NoLeap, day(2000, 2, 28), true},
		{AllLeap, day(2001, 2, 29), true},
		{AllLeap, day(2001, 2, 30), false},
		{Day360, day(2001, 2, 30), true},
		{Day360, day(2001, 2, 31), false},
		{Day360, day(2001, 1, 31), false},
		{Day360, day(-100, 1, 1), true},
		{Standard, day(2000, 0, 1), false},
		{Standard, day(2000, 13, 1), false},
		{Standard, day(2000, 1, 0), false},
		{Standard, day(2000, 4, 31), false},
		{Standard, Date{Year: 2000, Month: 1, Day: 1, Hour: 23, Minute: 59, Second: 59.999999}, true},
		{Standard, Date{Year: 2000, Month: 1, Day: 1, Hour: 24}, false},
		{Standard, Date{Year: 2000, Month: 1, Day: 1, Minute: 60}, false},
		{Standard, Date{Year: 2000, Month: 1, Day: 1, Second: 60}, false}, // leap seconds only exist in CF's utc calendar
		{Standard, Date{Year: 2000, Month: 1, Day: 1, Second: -0.5}, false},
		{Standard, Date{Year: 2000, Month: 1, Day: 1, Hour: -1}, false},
		{ProlepticGregorian, day(maxYear+1, 1, 1), false},
		{NoCalendar, day(2000, 1, 1), false},
		{Calendar("bogus"), day(2000, 1, 1), false},
	}
	for _, c := range cases {
		err := c.cal.Valid(c.d)
		if (err == nil) != c.ok {
			t.Errorf("%s.Valid(%s) = %v, want ok=%v", c.cal, c.d, err, c.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "cf: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

// Julian day numbers of well-known dates, from the astronomical definition
// (JDN 0 is 1 January 4713 BC, Julian calendar).
func TestJulianDayNumbers(t *testing.T) {
	cases := []struct {
		gregorian bool
		y, m, d   int
		want      int64
	}{
		{true, 2000, 1, 1, 2451545},
		{true, 1858, 11, 17, 2400001}, // modified Julian day 0 is JD 2400000.5
		{true, 1970, 1, 1, 2440588},
		{true, 1582, 10, 15, reformJDN},
		{false, 1582, 10, 4, reformJDN - 1},
		{false, -4712, 1, 1, 0},
		{false, 1, 1, 1, 1721424},
		{true, 1, 1, 1, 1721426},
	}
	for _, c := range cases {
		if got := jdn(c.gregorian, c.y, c.m, c.d); got != c.want {
			t.Errorf("jdn(%v, %d-%d-%d) = %d, want %d", c.gregorian, c.y, c.m, c.d, got, c.want)
		}
		if y, m, d := fromJDN(c.gregorian, c.want); y != c.y || m != c.m || d != c.d {
			t.Errorf("fromJDN(%v, %d) = %d-%d-%d", c.gregorian, c.want, y, m, d)
		}
	}
}

// The proleptic Gregorian day numbers must agree with the standard library,
// which uses the same calendar, over a wide span including negative years.
func TestProlepticGregorianMatchesTimePackage(t *testing.T) {
	base := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for n := int64(-1_500_000); n <= 1_500_000; n++ {
		tm := base.AddDate(0, 0, int(n))
		y, m, d := ProlepticGregorian.fromDayNumber(2451545 + n)
		if y != tm.Year() || m != int(tm.Month()) || d != tm.Day() {
			t.Fatalf("day %d: got %d-%d-%d, time package says %s", n, y, m, d, tm.Format("2006-01-02"))
		}
	}
}

// Walking day by day, each calendar's day numbers must step through exactly
// the valid dates, in order, and fromDayNumber must invert dayNumber.
func TestDayNumbersAreConsecutive(t *testing.T) {
	for _, c := range allCalendars {
		startYear := -1000
		if c.yearZeroOnly() {
			startYear = 0
		}
		y, m, d := startYear, 1, 1
		n := c.dayNumber(y, m, d)
		for y < 2500 {
			if gy, gm, gd := c.fromDayNumber(n); gy != y || gm != m || gd != d {
				t.Fatalf("%s: day number %d is %d-%d-%d, want %d-%d-%d", c, n, gy, gm, gd, y, m, d)
			}
			if got := c.dayNumber(y, m, d); got != n {
				t.Fatalf("%s: dayNumber(%d-%d-%d) = %d, want %d", c, y, m, d, got, n)
			}
			// Next valid date by the month-length rules alone.
			d++
			if c == Standard && y == 1582 && m == 10 && d == 5 {
				d = 15
			}
			if d > c.lastDay(y, m) {
				d, m = 1, m+1
				if m > 12 {
					m, y = 1, y+1
				}
			}
			n++
		}
	}
}

func TestCompare(t *testing.T) {
	a := Date{Year: 2000, Month: 1, Day: 1}
	cases := []struct {
		b    Date
		want int
	}{
		{a, 0},
		{Date{Year: 2000, Month: 1, Day: 1, Second: 0.000001}, -1},
		{Date{Year: 1999, Month: 12, Day: 31, Hour: 23}, 1},
		{Date{Year: 2000, Month: 2, Day: 1}, -1},
		{Date{Year: 2000, Month: 1, Day: 2}, -1},
		{Date{Year: 2000, Month: 1, Day: 1, Minute: 1}, -1},
		{Date{Year: -2000, Month: 12, Day: 31}, 1},
	}
	for _, c := range cases {
		if got := a.Compare(c.b); got != c.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", a, c.b, got, c.want)
		}
		if got := c.b.Compare(a); got != -c.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", c.b, a, got, -c.want)
		}
	}
}
