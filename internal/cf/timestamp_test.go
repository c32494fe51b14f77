package cf

import (
	"math"
	"strings"
	"testing"
)

func TestParseTimestamp(t *testing.T) {
	const us = 0.000001
	cases := []struct {
		in         string
		cal        Calendar
		start, end Date
	}{
		// Every resolution.
		{"1980", Standard, date(1980, 1, 1, 0, 0, 0), date(1981, 1, 1, 0, 0, 0)},
		{"1980-06", Standard, date(1980, 6, 1, 0, 0, 0), date(1980, 7, 1, 0, 0, 0)},
		{"1980-06-15", Standard, date(1980, 6, 15, 0, 0, 0), date(1980, 6, 16, 0, 0, 0)},
		{"1980-06-15 12", Standard, date(1980, 6, 15, 12, 0, 0), date(1980, 6, 15, 13, 0, 0)},
		{"1980-06-15T12", Standard, date(1980, 6, 15, 12, 0, 0), date(1980, 6, 15, 13, 0, 0)},
		{"1980-06-15T12:30", Standard, date(1980, 6, 15, 12, 30, 0), date(1980, 6, 15, 12, 31, 0)},
		{"1980-06-15T12:30:15", Standard, date(1980, 6, 15, 12, 30, 15), date(1980, 6, 15, 12, 30, 15+us)},
		{"2008-01-02T09:00:00.000000000", Standard, date(2008, 1, 2, 9, 0, 0), date(2008, 1, 2, 9, 0, us)},
		{"2008-01-02T09:00:00.25", Standard, date(2008, 1, 2, 9, 0, 0.25), date(2008, 1, 2, 9, 0, 0.250001)},
		{"2008-01-02T09:00:00.1234564", Standard, date(2008, 1, 2, 9, 0, 0.123456), date(2008, 1, 2, 9, 0, 0.123457)},
		{"2008-01-02T09:00:59.9999999", Standard, date(2008, 1, 2, 9, 0, 59.999999), date(2008, 1, 2, 9, 1, 0)}, // truncated, not rounded to a second 60
		// Separators and the trailing Z.
		{"1980-06-15   12:30", Standard, date(1980, 6, 15, 12, 30, 0), date(1980, 6, 15, 12, 31, 0)},
		{"1980-06-15t12:30", Standard, date(1980, 6, 15, 12, 30, 0), date(1980, 6, 15, 12, 31, 0)},
		{"1980-06-15T12:30:15Z", Standard, date(1980, 6, 15, 12, 30, 15), date(1980, 6, 15, 12, 30, 15+us)},
		{"1980-06-15Z", Standard, date(1980, 6, 15, 0, 0, 0), date(1980, 6, 16, 0, 0, 0)},
		{"  1980-06-15T12  ", Standard, date(1980, 6, 15, 12, 0, 0), date(1980, 6, 15, 13, 0, 0)},
		{"1980-6-5", Standard, date(1980, 6, 5, 0, 0, 0), date(1980, 6, 6, 0, 0, 0)},
		{"1980-06-15T1:5", Standard, date(1980, 6, 15, 1, 5, 0), date(1980, 6, 15, 1, 6, 0)},
		// Date glued to the time by a client that strips spaces.
		{"1980-01-0100:00", Standard, date(1980, 1, 1, 0, 0, 0), date(1980, 1, 1, 0, 1, 0)},
		{"1980-01-1123:59", Standard, date(1980, 1, 11, 23, 59, 0), date(1980, 1, 12, 0, 0, 0)},
		{"1980-01-0112:30:45", Standard, date(1980, 1, 1, 12, 30, 45), date(1980, 1, 1, 12, 30, 45+us)},
		// Period ends across month and year ends, per calendar.
		{"1999-12-31", Standard, date(1999, 12, 31, 0, 0, 0), date(2000, 1, 1, 0, 0, 0)},
		{"1999-12-31T23", Standard, date(1999, 12, 31, 23, 0, 0), date(2000, 1, 1, 0, 0, 0)},
		{"1999-12-31T23:59", NoLeap, date(1999, 12, 31, 23, 59, 0), date(2000, 1, 1, 0, 0, 0)},
		{"1999-12", Julian, date(1999, 12, 1, 0, 0, 0), date(2000, 1, 1, 0, 0, 0)},
		{"1999-12-30", Day360, date(1999, 12, 30, 0, 0, 0), date(2000, 1, 1, 0, 0, 0)},
		{"2001-02", Day360, date(2001, 2, 1, 0, 0, 0), date(2001, 3, 1, 0, 0, 0)},
		{"2001-02-30", Day360, date(2001, 2, 30, 0, 0, 0), date(2001, 3, 1, 0, 0, 0)},
		{"2001-02-28", NoLeap, date(2001, 2, 28, 0, 0, 0), date(2001, 3, 1, 0, 0, 0)},
		{"2000-02-28", NoLeap, date(2000, 2, 28, 0, 0, 0), date(2000, 3, 1, 0, 0, 0)},
		{"2000-02-28", Standard, date(2000, 2, 28, 0, 0, 0), date(2000, 2, 29, 0, 0, 0)},
		{"2000-02-29", Standard, date(2000, 2, 29, 0, 0, 0), date(2000, 3, 1, 0, 0, 0)},
		{"1900-02-28", Standard, date(1900, 2, 28, 0, 0, 0), date(1900, 3, 1, 0, 0, 0)},
		{"1900-02-28", Julian, date(1900, 2, 28, 0, 0, 0), date(1900, 2, 29, 0, 0, 0)},
		{"1900-02-29", Julian, date(1900, 2, 29, 0, 0, 0), date(1900, 3, 1, 0, 0, 0)},
		{"2001-02-29", AllLeap, date(2001, 2, 29, 0, 0, 0), date(2001, 3, 1, 0, 0, 0)},
		{"2001-02-29T23:30", AllLeap, date(2001, 2, 29, 23, 30, 0), date(2001, 2, 29, 23, 31, 0)},
		{"2001", AllLeap, date(2001, 1, 1, 0, 0, 0), date(2002, 1, 1, 0, 0, 0)},
		{"1500-02-29", Standard, date(1500, 2, 29, 0, 0, 0), date(1500, 3, 1, 0, 0, 0)},
		{"1582-10-04", Standard, date(1582, 10, 4, 0, 0, 0), date(1582, 10, 15, 0, 0, 0)},
		{"1582-10-04T23", Standard, date(1582, 10, 4, 23, 0, 0), date(1582, 10, 15, 0, 0, 0)},
		{"1582-10", Standard, date(1582, 10, 1, 0, 0, 0), date(1582, 11, 1, 0, 0, 0)},
		{"1582", Standard, date(1582, 1, 1, 0, 0, 0), date(1583, 1, 1, 0, 0, 0)},
		{"1582-10-04", ProlepticGregorian, date(1582, 10, 4, 0, 0, 0), date(1582, 10, 5, 0, 0, 0)},
		// Year 0, negative and expanded years, where the calendar has them.
		{"0000", Julian, date(0, 1, 1, 0, 0, 0), date(1, 1, 1, 0, 0, 0)},
		{"0", NoLeap, date(0, 1, 1, 0, 0, 0), date(1, 1, 1, 0, 0, 0)},
		{"-0001", ProlepticGregorian, date(-1, 1, 1, 0, 0, 0), date(0, 1, 1, 0, 0, 0)},
		{"-1-12-30", Day360, date(-1, 12, 30, 0, 0, 0), date(0, 1, 1, 0, 0, 0)},
		{"+10000-02", ProlepticGregorian, date(10000, 2, 1, 0, 0, 0), date(10000, 3, 1, 0, 0, 0)},
	}
	for _, c := range cases {
		start, end, err := ParseTimestamp(c.in, c.cal)
		if err != nil {
			t.Errorf("ParseTimestamp(%q, %s): %v", c.in, c.cal, err)
			continue
		}
		if start != c.start || end != c.end {
			t.Errorf("ParseTimestamp(%q, %s) = [%s, %s), want [%s, %s)", c.in, c.cal, start, end, c.start, c.end)
		}
	}
}

func TestParseTimestampErrors(t *testing.T) {
	cases := []struct {
		in  string
		cal Calendar
	}{
		{"2001-02-29", NoLeap},
		{"2001-02-29", Standard},
		{"2000-02-29", NoLeap},
		{"2001-02-31", Day360},
		{"2001-01-31", Day360},
		{"2001-02-30", AllLeap},
		{"1900-02-29", Standard},
		{"1582-10-10", Standard},
		{"1582-10-05T12", Standard},
		{"-0001", Standard},
		{"-0001-06", Julian},
		{"1980-13", Standard},
		{"1980-00", Standard},
		{"1980-06-00", Standard},
		{"1980-06-15T24", Standard},
		{"1980-06-15T12:60", Standard},
		{"1980-06-15T12:30:60", Standard},
		{"", Standard},
		{"   ", Standard},
		{"Z", Standard},
		{"abc", Standard},
		{"1980-", Standard},
		{"1980-06-", Standard},
		{"1980-06-15T", Standard},
		{"1980-06-15 ", Standard + "x"},
		{"1980-06-15T12:", Standard},
		{"1980-06-15T12:30:", Standard},
		{"1980-06-15T12:30:15.", Standard},
		{"1980-06-15T12:30:15.5.5", Standard},
		{"1980-06-15T12:30:15 Z", Standard},
		{"1980-06-15T12:30+01:00", Standard},
		{"19800615", Standard},
		{"10000", ProlepticGregorian}, // five-digit years need a sign
		{"1980/06/15", Standard},
		{"1980-06-15X12", Standard},
		{"1980-01-0100", Standard},   // glued form needs HH:MM
		{"1980-01-010:00", Standard}, // ...with a two-digit hour
		{"1980-1-100:00", Standard},  // ...after a ten-character date
		{"1980-06-15ZZ", Standard},
		{"1980", NoCalendar},
		{"1980", Calendar("bogus")},
		{"+100000000", ProlepticGregorian}, // end of period beyond the supported range
	}
	for _, c := range cases {
		s, e, err := ParseTimestamp(c.in, c.cal)
		if err == nil {
			t.Errorf("ParseTimestamp(%q, %s) = [%s, %s), want error", c.in, c.cal, s, e)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, `"`+c.in+`"`) || !strings.Contains(msg, string(c.cal)) {
			t.Errorf("ParseTimestamp(%q, %s) error %q should name the text and the calendar", c.in, c.cal, msg)
		}
	}
}

func TestAddSeconds(t *testing.T) {
	cases := []struct {
		cal  Calendar
		d    Date
		secs float64
		want Date
	}{
		{Standard, date(1582, 10, 4, 23, 0, 0), 3600, date(1582, 10, 15, 0, 0, 0)},
		{Standard, date(1582, 10, 15, 0, 0, 0), -1, date(1582, 10, 4, 23, 59, 59)},
		{ProlepticGregorian, date(1582, 10, 4, 23, 0, 0), 3600, date(1582, 10, 5, 0, 0, 0)},
		{NoLeap, date(2000, 2, 28, 12, 0, 0), 43200, date(2000, 3, 1, 0, 0, 0)},
		{Standard, date(2000, 2, 28, 12, 0, 0), 43200, date(2000, 2, 29, 0, 0, 0)},
		{Day360, date(2000, 2, 30, 0, 0, 0), 86400, date(2000, 3, 1, 0, 0, 0)},
		{Day360, date(2000, 1, 1, 0, 0, 0), 360 * 86400, date(2001, 1, 1, 0, 0, 0)},
		{AllLeap, date(2001, 2, 28, 0, 0, 0), 86400, date(2001, 2, 29, 0, 0, 0)},
		{Julian, date(1900, 2, 28, 0, 0, 0), 86400, date(1900, 2, 29, 0, 0, 0)},
		{Standard, date(2000, 1, 1, 0, 0, 0), 0.5, date(2000, 1, 1, 0, 0, 0.5)},
		{Standard, date(2000, 1, 1, 0, 0, 0), -0.5, date(1999, 12, 31, 23, 59, 59.5)},
		{Standard, date(2000, 1, 1, 0, 0, 0.25), 0.1, date(2000, 1, 1, 0, 0, 0.35)},
		{Standard, date(2000, 1, 1, 0, 0, 0), 1e-7, date(2000, 1, 1, 0, 0, 0)}, // below the microsecond
		{Standard, date(2000, 1, 1, 0, 0, 0), 0, date(2000, 1, 1, 0, 0, 0)},
		{ProlepticGregorian, date(1970, 1, 1, 0, 0, 0), 1e12, date(33658, 9, 27, 1, 46, 40)},
	}
	for _, c := range cases {
		got, err := c.cal.AddSeconds(c.d, c.secs)
		if err != nil || got != c.want {
			t.Errorf("%s.AddSeconds(%s, %v) = %s, %v; want %s", c.cal, c.d, c.secs, got, err, c.want)
		}
	}
	bad := []struct {
		cal  Calendar
		d    Date
		secs float64
	}{
		{Standard, date(2000, 1, 1, 0, 0, 0), math.NaN()},
		{Standard, date(2000, 1, 1, 0, 0, 0), math.Inf(1)},
		{Standard, date(2000, 1, 1, 0, 0, 0), 1e300},
		{Standard, date(2001, 2, 29, 0, 0, 0), 1},
		{Julian, date(0, 1, 1, 0, 0, 0), -1}, // before year 0
		{NoCalendar, date(2000, 1, 1, 0, 0, 0), 1},
	}
	for _, c := range bad {
		if got, err := c.cal.AddSeconds(c.d, c.secs); err == nil {
			t.Errorf("%s.AddSeconds(%s, %v) = %s, want error", c.cal, c.d, c.secs, got)
		}
	}
}

// Stepping through consecutive periods must tile time: each period's end is
// the next period's start, so no data falls between two subsets.
func TestTimestampPeriodsTile(t *testing.T) {
	for _, c := range allCalendars {
		_, end, err := ParseTimestamp("1582-01", c)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 24; i++ {
			next, nextEnd, err := ParseTimestamp(end.String()[:7], c)
			if err != nil {
				t.Fatalf("%s: %v", c, err)
			}
			if next != end {
				t.Fatalf("%s: period after one ending %s starts at %s", c, end, next)
			}
			end = nextEnd
		}
		if end != date(1584, 2, 1, 0, 0, 0) {
			t.Errorf("%s: 25 months after 1582-01 end at %s", c, end)
		}
	}
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"1980", "1980-06", "1980-06-15", "1980-06-15 12", "1980-06-15T12:30", "1980-06-15T12:30:15",
		"2008-01-02T09:00:00.000000000", "1980-01-0100:00", "1582-10-04", "-0001-12-31T23:59:59.999999Z",
		"+10000-02-29", "2001-02-30", "0000",
	} {
		for i := range allCalendars {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, s string, ci uint8) {
		c := allCalendars[int(ci)%len(allCalendars)]
		start, end, err := ParseTimestamp(s, c)
		if err != nil {
			return
		}
		if start.Compare(end) >= 0 {
			t.Fatalf("ParseTimestamp(%q, %s) = [%s, %s): start not before end", s, c, start, end)
		}
		if err := c.Valid(start); err != nil {
			t.Fatalf("ParseTimestamp(%q, %s) start: %v", s, c, err)
		}
		if err := c.Valid(end); err != nil {
			t.Fatalf("ParseTimestamp(%q, %s) end: %v", s, c, err)
		}
	})
}
