package cf

import (
	"math"
	"strings"
	"testing"
)

func date(y, m, d, hh, mm int, s float64) Date {
	return Date{Year: y, Month: m, Day: d, Hour: hh, Minute: mm, Second: s}
}

func mustUnits(t testing.TB, units, cal string) TimeUnits {
	t.Helper()
	u, err := ParseTimeUnits(units, cal)
	if err != nil {
		t.Fatalf("ParseTimeUnits(%q, %q): %v", units, cal, err)
	}
	return u
}

func TestDateString(t *testing.T) {
	cases := []struct {
		d    Date
		want string
	}{
		{date(1980, 1, 1, 0, 0, 0), "1980-01-01T00:00:00"},
		{date(1980, 1, 1, 12, 0, 0.5), "1980-01-01T12:00:00.5"},
		{date(2009, 2, 13, 23, 31, 30.5), "2009-02-13T23:31:30.5"},
		{date(2000, 12, 31, 5, 48, 45.974678), "2000-12-31T05:48:45.974678"},
		{date(2000, 1, 1, 0, 0, 0.000001), "2000-01-01T00:00:00.000001"},
		{date(1, 1, 1, 0, 0, 0), "0001-01-01T00:00:00"},
		{date(0, 2, 29, 0, 0, 0), "0000-02-29T00:00:00"},
		{date(-1, 12, 31, 23, 59, 59), "-0001-12-31T23:59:59"},
		{date(-738, 2, 3, 0, 0, 0), "-0738-02-03T00:00:00"},
		{date(-12345, 1, 1, 0, 0, 0), "-12345-01-01T00:00:00"},
		{date(9999, 12, 31, 0, 0, 0), "9999-12-31T00:00:00"},
		{date(10000, 1, 1, 0, 0, 0), "+10000-01-01T00:00:00"},
		{date(2000, 2, 30, 7, 5, 9), "2000-02-30T07:05:09"},
	}
	for _, c := range cases {
		if got := c.d.String(); got != c.want {
			t.Errorf("String(%#v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestParseTimeUnitsReferenceForms(t *testing.T) {
	cases := []struct {
		units string
		ref   Date
		canon string
	}{
		{"days since 1850-01-01", date(1850, 1, 1, 0, 0, 0), "days since 1850-01-01 00:00:00"},
		{"days since 1850-1-1", date(1850, 1, 1, 0, 0, 0), "days since 1850-01-01 00:00:00"},
		{"days since 1850-01-01 00:00:00", date(1850, 1, 1, 0, 0, 0), "days since 1850-01-01 00:00:00"},
		{"days since 1850-01-01 0:0:0.0", date(1850, 1, 1, 0, 0, 0), "days since 1850-01-01 00:00:00"},
		{"hours since 1979-01-01T00:00:00Z", date(1979, 1, 1, 0, 0, 0), "hours since 1979-01-01 00:00:00"},
		{"seconds since 2000-01-01 00:00:00 UTC", date(2000, 1, 1, 0, 0, 0), "seconds since 2000-01-01 00:00:00"},
		{"days since 0001-01-01 00:00:00", date(1, 1, 1, 0, 0, 0), "days since 0001-01-01 00:00:00"},
		{"days since 1-1-1", date(1, 1, 1, 0, 0, 0), "days since 0001-01-01 00:00:00"},
		{"days since 1850-01-01 00:00:00.000000", date(1850, 1, 1, 0, 0, 0), "days since 1850-01-01 00:00:00"},
		{"days   since   1850-01-01", date(1850, 1, 1, 0, 0, 0), "days since 1850-01-01 00:00:00"},
		{"  days since 1850-01-01 12:30  ", date(1850, 1, 1, 12, 30, 0), "days since 1850-01-01 12:30:00"},
		{"days since 1990-1-1 0:0:0", date(1990, 1, 1, 0, 0, 0), "days since 1990-01-01 00:00:00"},
		{"DAYS SINCE 1850-01-01", date(1850, 1, 1, 0, 0, 0), "days since 1850-01-01 00:00:00"},
		{"seconds since 1850-01-01 00:00:07.25", date(1850, 1, 1, 0, 0, 7.25), "seconds since 1850-01-01 00:00:07.25"},
		{"seconds since 1850-01-01 00:00:07.1234567", date(1850, 1, 1, 0, 0, 7.123456), "seconds since 1850-01-01 00:00:07.123456"},
		{"seconds since 1850-01-01 00:00:59.99999999", date(1850, 1, 1, 0, 0, 59.999999), "seconds since 1850-01-01 00:00:59.999999"},
		{"days since 1850-01-01 00:00:00utc", date(1850, 1, 1, 0, 0, 0), "days since 1850-01-01 00:00:00"},
		{"days since 1850-01-01T00:00:00 Z", date(1850, 1, 1, 0, 0, 0), "days since 1850-01-01 00:00:00"},
		{"days since 1850-01-01 UTC", date(1850, 1, 1, 0, 0, 0), "days since 1850-01-01 00:00:00"},
		// Time zone offsets are subtracted to give UTC (CF §4.4.1).
		{"hours since 1970-01-01 00:00:00 +05:30", date(1969, 12, 31, 18, 30, 0), "hours since 1969-12-31 18:30:00"},
		{"hours since 1970-01-01 00:00:00 -6:00", date(1970, 1, 1, 6, 0, 0), "hours since 1970-01-01 06:00:00"},
		{"hours since 1970-01-01 00:00:00 -06", date(1970, 1, 1, 6, 0, 0), "hours since 1970-01-01 06:00:00"},
		{"hours since 1970-01-01 00:00:00+0530", date(1969, 12, 31, 18, 30, 0), "hours since 1969-12-31 18:30:00"},
		{"hours since 1970-01-01 00:00:00 530", date(1969, 12, 31, 18, 30, 0), "hours since 1969-12-31 18:30:00"},
		{"hours since 1970-01-01 00:00:00 +11", date(1969, 12, 31, 13, 0, 0), "hours since 1969-12-31 13:00:00"},
		{"days since 1989-12-31 18:00:00 -6", date(1990, 1, 1, 0, 0, 0), "days since 1990-01-01 00:00:00"},
		{"seconds since 1992-10-8 15:15:42.5 -6:00", date(1992, 10, 8, 21, 15, 42.5), "seconds since 1992-10-08 21:15:42.5"},
		{"hours since 2000-03-01 00:00:00 +1", date(2000, 2, 29, 23, 0, 0), "hours since 2000-02-29 23:00:00"},
		{"days since 1970-01-01 00:00:00 +00:00", date(1970, 1, 1, 0, 0, 0), "days since 1970-01-01 00:00:00"},
	}
	for _, c := range cases {
		u, err := ParseTimeUnits(c.units, "standard")
		if err != nil {
			t.Errorf("ParseTimeUnits(%q): %v", c.units, err)
			continue
		}
		if u.Reference() != c.ref {
			t.Errorf("ParseTimeUnits(%q).Reference() = %s, want %s", c.units, u.Reference(), c.ref)
		}
		if u.String() != c.canon {
			t.Errorf("ParseTimeUnits(%q).String() = %q, want %q", c.units, u.String(), c.canon)
		}
		if u.Calendar() != Standard {
			t.Errorf("ParseTimeUnits(%q).Calendar() = %q", c.units, u.Calendar())
		}
		again, err := ParseTimeUnits(u.String(), "standard")
		if err != nil || again != u {
			t.Errorf("canonical %q does not re-parse to the same units: %v", u.String(), err)
		}
	}
}

func TestParseTimeUnitsUnitWords(t *testing.T) {
	cases := map[string]string{
		"seconds":      "s sec secs second seconds S Sec SECONDS",
		"minutes":      "min mins minute minutes MIN Minutes",
		"hours":        "h hr hrs hour hours H HOURS",
		"days":         "d day days D Day DAYS",
		"milliseconds": "ms msec msecs millisecond milliseconds",
		"microseconds": "us usec usecs microsecond microseconds",
		"months":       "month months Months",
		"years":        "year years yr yrs",
	}
	for canon, words := range cases {
		for _, w := range strings.Fields(words) {
			u, err := ParseTimeUnits(w+" since 2000-01-01", "noleap")
			if err != nil {
				t.Errorf("unit %q: %v", w, err)
				continue
			}
			if want := canon + " since 2000-01-01 00:00:00"; u.String() != want {
				t.Errorf("unit %q: String() = %q, want %q", w, u.String(), want)
			}
		}
	}
}

func TestParseTimeUnitsErrors(t *testing.T) {
	cases := []struct{ units, cal string }{
		{"days after 1850", "standard"},
		{"days after 1850-01-01", "standard"},
		{"furlongs since 1850-01-01", "standard"},
		{"days since yesterday", "standard"},
		{"days since 1850", "standard"},
		{"days since 1850-01", "standard"},
		{"days since", "standard"},
		{"days", "standard"},
		{"", "standard"},
		{"   ", "standard"},
		{"since 1850-01-01", "standard"},
		{"days since1850-01-01", "standard"},
		{"days since 1850/01/01", "standard"},
		{"days since 1850-01-01 12", "standard"},
		{"days since 1850-01-01 12:", "standard"},
		{"days since 1850-01-01 12:00:", "standard"},
		{"days since 1850-01-01 12:00:00.", "standard"},
		{"days since 1850-01-01 00:00:00 EST", "standard"},
		{"days since 1850-01-01 00:00:00 +25", "standard"},
		{"days since 1850-01-01 00:00:00 +05:75", "standard"},
		{"days since 1850-01-01 00:00:00 +05:30:00", "standard"},
		{"days since 1850-01-01 00:00:00 +12345", "standard"},
		{"days since 1850-01-01 00:00:0005", "standard"},
		{"days since 1850-01-01 00:00:00 garbage", "standard"},
		{"days since 1850-01-01T", "standard"},
		{"days since 2001-02-29", "standard"},
		{"days since 2001-02-29", "noleap"},
		{"days since 2001-02-31", "360_day"},
		{"days since 1582-10-10", "standard"},
		{"days since -0001-01-01", "standard"},
		{"days since -0001-01-01", "julian"},
		{"days since 0000-01-01 00:00:00 +01", "julian"}, // UTC reference falls in year -1
		{"days since 1850-13-01", "standard"},
		{"days since 1850-01-01 24:00:00", "standard"},
		{"seconds since 2016-12-31 23:59:60", "standard"},
		{"days since 1234567890-01-01", "proleptic_gregorian"},
		{"days since 1850-01-01", "gregorian_typo"},
		{"days since 1850-01-01 00:00:00 +05:30 UTC", "standard"},
		{"days  since 1850-01-01 since", "standard"},
	}
	for _, c := range cases {
		u, err := ParseTimeUnits(c.units, c.cal)
		if err == nil {
			t.Errorf("ParseTimeUnits(%q, %q) = %q, want error", c.units, c.cal, u)
			continue
		}
		if c.cal != "gregorian_typo" && !strings.Contains(err.Error(), "\""+strings.ReplaceAll(c.units, `"`, `\"`)+"\"") {
			t.Errorf("ParseTimeUnits(%q) error %q does not quote the units", c.units, err)
		}
	}
}

func TestParseTimeUnitsYearZeroAndNegative(t *testing.T) {
	// CF: year 0 is allowed (deprecated) in standard and julian, negative years
	// are not; other calendars allow both.
	for _, c := range []struct {
		units, cal string
		ok         bool
	}{
		{"days since 0000-01-01", "standard", true},
		{"days since 0000-01-01", "julian", true},
		{"days since 0-1-1", "proleptic_gregorian", true},
		{"days since -0001-01-01", "proleptic_gregorian", true},
		{"days since -4712-01-01", "noleap", true},
		{"days since +2000-01-01", "360_day", true},
		{"days since -1-1-1", "all_leap", true},
		{"days since -1-1-1", "julian", false},
	} {
		_, err := ParseTimeUnits(c.units, c.cal)
		if (err == nil) != c.ok {
			t.Errorf("ParseTimeUnits(%q, %q) error = %v, want ok=%v", c.units, c.cal, err, c.ok)
		}
	}
}

// Expected dates were cross-checked with `ncdump -t` and `cdo showtimestamp`
// (see the comments for where they disagree with CF).
func TestDecodeKnownDates(t *testing.T) {
	cases := []struct {
		units, cal string
		v          float64
		want       Date
	}{
		{"days since 2000-01-01", "noleap", 365, date(2001, 1, 1, 0, 0, 0)},
		{"days since 2000-01-01", "noleap", 59, date(2000, 3, 1, 0, 0, 0)},
		{"days since 2000-01-01", "noleap", 0.5, date(2000, 1, 1, 12, 0, 0)},
		{"days since 2000-01-01", "noleap", 1e6, date(4739, 9, 23, 0, 0, 0)},
		{"days since 2000-01-01", "noleap", -1, date(1999, 12, 31, 0, 0, 0)},
		{"days since 2000-01-01", "365_day", 730000, date(4000, 1, 1, 0, 0, 0)},
		{"days since 0000-01-01", "noleap", 365, date(1, 1, 1, 0, 0, 0)},
		{"days since 2000-01-01", "360_day", 30, date(2000, 2, 1, 0, 0, 0)},
		{"days since 2000-01-01", "360_day", 360, date(2001, 1, 1, 0, 0, 0)},
		{"days since 2000-01-01", "360_day", 59, date(2000, 2, 30, 0, 0, 0)},
		{"days since 2000-01-01", "360_day", 1e6, date(4777, 10, 11, 0, 0, 0)},
		{"days since 2000-01-01", "360_day", -1, date(1999, 12, 30, 0, 0, 0)},
		{"days since 2000-01-01", "360_day", 0.25, date(2000, 1, 1, 6, 0, 0)},
		{"days since 2000-01-01", "360_day", -730000, date(-28, 3, 21, 0, 0, 0)},
		{"days since 2001-01-01", "all_leap", 59, date(2001, 2, 29, 0, 0, 0)},
		{"days since 2001-01-01", "366_day", 366, date(2002, 1, 1, 0, 0, 0)},
		{"days since 2001-01-01", "all_leap", 1e6, date(4733, 3, 29, 0, 0, 0)},
		{"days since 2001-01-01", "all_leap", -1, date(2000, 12, 31, 0, 0, 0)},
		// ncdump prints 1582-10-05 for this one (a date that does not exist);
		// cdo agrees with CF: 1582-10-15 is exactly one day after 1582-10-04.
		{"days since 1582-10-04", "standard", 1, date(1582, 10, 15, 0, 0, 0)},
		{"days since 1582-10-04", "gregorian", 2, date(1582, 10, 16, 0, 0, 0)},
		{"days since 1582-10-04", "standard", -1, date(1582, 10, 3, 0, 0, 0)},
		{"days since 1582-10-04", "standard", 0.5, date(1582, 10, 4, 12, 0, 0)},
		{"days since 1582-10-04 12:00", "standard", 0.5, date(1582, 10, 15, 0, 0, 0)},
		{"days since 1582-10-15", "standard", -1, date(1582, 10, 4, 0, 0, 0)},
		{"days since 1500-01-01", "standard", 30000, date(1582, 2, 19, 0, 0, 0)},
		{"days since 1500-01-01", "standard", 30242, date(1582, 10, 29, 0, 0, 0)},
		{"days since 1500-01-01", "standard", 30243, date(1582, 10, 30, 0, 0, 0)},
		{"days since 1500-01-01", "standard", 40000, date(1609, 7, 17, 0, 0, 0)},
		{"days since 1500-01-01", "standard", 182622, date(2000, 1, 11, 0, 0, 0)},
		{"days since 1500-01-01", "standard", 1e6, date(4237, 12, 7, 0, 0, 0)},
		{"days since 0001-01-01", "standard", 730119, date(1999, 12, 30, 0, 0, 0)},
		{"days since 0001-01-01", "standard", 577735, date(1582, 10, 3, 0, 0, 0)},
		{"days since 0001-01-01", "standard", 577736, date(1582, 10, 4, 0, 0, 0)},
		{"days since 0001-01-01", "standard", 730120.5, date(1999, 12, 31, 12, 0, 0)},
		{"days since 0000-01-01", "standard", 366, date(1, 1, 1, 0, 0, 0)},
		{"days since 0000-01-01", "standard", 365, date(0, 12, 31, 0, 0, 0)},
		{"days since 0001-01-01", "julian", 730119, date(1999, 12, 17, 0, 0, 0)},
		{"days since 0001-01-01", "julian", 577735, date(1582, 10, 3, 0, 0, 0)},
		{"days since 0001-01-01", "julian", 730120.5, date(1999, 12, 18, 12, 0, 0)},
		{"days since 1900-01-01", "julian", 59, date(1900, 2, 29, 0, 0, 0)},
		{"days since 1900-01-01", "julian", 60, date(1900, 3, 1, 0, 0, 0)},
		{"days since 1900-01-01", "julian", 365, date(1900, 12, 31, 0, 0, 0)},
		{"days since 1900-01-01", "julian", 1e6, date(4637, 11, 7, 0, 0, 0)},
		{"days since 0001-01-01", "proleptic_gregorian", 730119, date(2000, 1, 1, 0, 0, 0)},
		{"days since 0001-01-01", "proleptic_gregorian", 577737, date(1582, 10, 17, 0, 0, 0)},
		{"days since 0001-01-01", "proleptic_gregorian", 1e6, date(2738, 11, 29, 0, 0, 0)},
		{"days since 0001-01-01", "proleptic_gregorian", 730120.5, date(2000, 1, 2, 12, 0, 0)},
		{"days since 0000-01-01", "proleptic_gregorian", 366, date(1, 1, 1, 0, 0, 0)},
		{"days since -0001-01-01", "proleptic_gregorian", 365, date(0, 1, 1, 0, 0, 0)},
		{"days since 2000-01-01", "proleptic_gregorian", -730486, date(-1, 12, 31, 0, 0, 0)},
		{"days since 2000-01-01", "proleptic_gregorian", -1000000, date(-738, 2, 3, 0, 0, 0)},
		{"hours since 1850-01-01 00:00:00", "standard", 1.5, date(1850, 1, 1, 1, 30, 0)},
		{"hours since 1850-01-01 00:00:00", "standard", 36.25, date(1850, 1, 2, 12, 15, 0)},
		{"hours since 1850-01-01 00:00:00", "standard", 876576.75, date(1950, 1, 1, 0, 45, 0)},
		{"hours since 1850-01-01 00:00:00", "standard", 0.001, date(1850, 1, 1, 0, 0, 3.6)},
		{"hours since 1850-01-01", "standard", -0.5, date(1849, 12, 31, 23, 30, 0)},
		{"seconds since 1970-01-01", "standard", 1e9, date(2001, 9, 9, 1, 46, 40)},
		{"seconds since 1970-01-01", "standard", 1234567890.5, date(2009, 2, 13, 23, 31, 30.5)},
		{"seconds since 1970-01-01", "standard", -1, date(1969, 12, 31, 23, 59, 59)},
		{"seconds since 1970-01-01", "standard", -0.25, date(1969, 12, 31, 23, 59, 59.75)},
		{"minutes since 2000-01-01 00:00:00", "noleap", 1440, date(2000, 1, 2, 0, 0, 0)},
		{"minutes since 2000-01-01 00:00:00", "noleap", 525600.5, date(2001, 1, 1, 0, 0, 30)},
		{"milliseconds since 2000-01-01", "standard", 86400001, date(2000, 1, 2, 0, 0, 0.001)},
		{"microseconds since 2000-01-01", "standard", -1, date(1999, 12, 31, 23, 59, 59.999999)},
		{"microseconds since 1970-01-01", "proleptic_gregorian", 1.7e15, date(2023, 11, 14, 22, 13, 20)},
		{"hours since 1970-01-01 00:00:00 +05:30", "standard", 5.5, date(1970, 1, 1, 0, 0, 0)},
		// Exact fractions of a day: no 00:59:59.9999 artefacts.
		{"days since 2000-01-01", "standard", 1.0 / 24, date(2000, 1, 1, 1, 0, 0)},
		{"days since 2000-01-01", "standard", 1.0 / 3, date(2000, 1, 1, 8, 0, 0)},
		{"days since 2000-01-01", "standard", 2.0 / 3, date(2000, 1, 1, 16, 0, 0)},
		{"days since 2000-01-01", "standard", 0.1, date(2000, 1, 1, 2, 24, 0)},
		{"days since 2000-01-01", "standard", 1.0 / 1440, date(2000, 1, 1, 0, 1, 0)},
		{"days since 2000-01-01", "standard", 0.999999999999, date(2000, 1, 2, 0, 0, 0)},
		{"days since 1850-01-01", "standard", 54785.5, date(1999, 12, 31, 12, 0, 0)},
		{"days since 1850-01-01", "standard", 54786, date(2000, 1, 1, 0, 0, 0)}, // 150*365 + 36 leap days
		// 360_day months and years are exactly 30 and 360 days (cdo agrees
		// on 13.5 months; ncdump truncates to whole months).
		{"months since 2000-01-01", "360_day", 1, date(2000, 2, 1, 0, 0, 0)},
		{"months since 2000-01-01", "360_day", 12, date(2001, 1, 1, 0, 0, 0)},
		{"months since 2000-01-01", "360_day", 13.5, date(2001, 2, 16, 0, 0, 0)},
		{"months since 2000-01-01", "360_day", -0.5, date(1999, 12, 16, 0, 0, 0)},
		{"months since 1850-01-01", "360_day", 1800, date(2000, 1, 1, 0, 0, 0)},
		{"years since 2000-01-01", "360_day", 2.5, date(2002, 7, 1, 0, 0, 0)},
		// Elsewhere UDUNITS fixed units: year = 365.242198781 days, month = year/12.
		{"months since 2000-01-01", "standard", 1, date(2000, 1, 31, 10, 29, 3.831223)},
		{"months since 2000-01-01", "standard", 12, date(2000, 12, 31, 5, 48, 45.974678)},
		{"years since 2000-01-01", "proleptic_gregorian", 1, date(2000, 12, 31, 5, 48, 45.974678)},
		{"years since 2000-01-01", "standard", -1, date(1998, 12, 31, 18, 11, 14.025322)},
	}
	for _, c := range cases {
		u := mustUnits(t, c.units, c.cal)
		got, err := u.Decode(c.v)
		if err != nil {
			t.Errorf("%q (%s) Decode(%v): %v", c.units, c.cal, c.v, err)
			continue
		}
		if got != c.want {
			t.Errorf("%q (%s) Decode(%v) = %s, want %s", c.units, c.cal, c.v, got, c.want)
		}
		if err := u.Calendar().Valid(got); err != nil {
			t.Errorf("%q (%s) Decode(%v) gave an invalid date: %v", c.units, c.cal, c.v, err)
		}
	}
}

func TestEncodeKnownValues(t *testing.T) {
	cases := []struct {
		units, cal string
		d          Date
		want       float64
	}{
		{"days since 1582-10-04", "standard", date(1582, 10, 15, 0, 0, 0), 1},
		{"days since 1500-01-01", "standard", date(2000, 1, 11, 0, 0, 0), 182622},
		{"days since 0001-01-01", "proleptic_gregorian", date(2000, 1, 1, 0, 0, 0), 730119},
		{"days since 0001-01-01", "julian", date(1999, 12, 17, 0, 0, 0), 730119},
		{"days since 2000-01-01", "noleap", date(2001, 1, 1, 0, 0, 0), 365},
		{"days since 2000-01-01", "360_day", date(2000, 2, 30, 12, 0, 0), 59.5},
		{"days since 2000-01-01", "360_day", date(1999, 12, 30, 18, 0, 0), -0.25},
		{"days since 2001-01-01", "all_leap", date(2001, 2, 29, 0, 0, 0), 59},
		{"hours since 1850-01-01", "standard", date(1950, 1, 1, 0, 45, 0), 876576.75},
		{"hours since 1970-01-01 00:00:00 +05:30", "standard", date(1970, 1, 1, 0, 0, 0), 5.5},
		{"seconds since 1970-01-01", "standard", date(2009, 2, 13, 23, 31, 30.5), 1234567890.5},
		{"seconds since 1970-01-01", "standard", date(1969, 12, 31, 23, 59, 59.75), -0.25},
		{"minutes since 2000-01-01", "noleap", date(2001, 1, 1, 0, 0, 30), 525600.5},
		{"milliseconds since 2000-01-01", "standard", date(2000, 1, 2, 0, 0, 0.001), 86400001},
		{"microseconds since 1970-01-01", "proleptic_gregorian", date(2023, 11, 14, 22, 13, 20), 1.7e15},
		{"months since 2000-01-01", "360_day", date(2001, 2, 16, 0, 0, 0), 13.5},
		{"years since 2000-01-01", "360_day", date(1999, 7, 1, 0, 0, 0), -0.5},
		{"days since 2000-01-01", "standard", date(2000, 1, 1, 8, 0, 0), 1.0 / 3},
	}
	for _, c := range cases {
		u := mustUnits(t, c.units, c.cal)
		got, err := u.Encode(c.d)
		if err != nil {
			t.Errorf("%q (%s) Encode(%s): %v", c.units, c.cal, c.d, err)
			continue
		}
		if got != c.want {
			t.Errorf("%q (%s) Encode(%s) = %v, want %v", c.units, c.cal, c.d, got, c.want)
		}
	}
	// UDUNITS months: 30 days are 30/(365.242198781/12) months.
	u := mustUnits(t, "months since 2000-01-01", "standard")
	if got, _ := u.Encode(date(2000, 1, 31, 0, 0, 0)); math.Abs(got-0.9856473353886931) > 1e-15 {
		t.Errorf("months Encode = %v", got)
	}
}

func TestEncodeDecodeErrors(t *testing.T) {
	std := mustUnits(t, "days since 2000-01-01", "standard")
	for _, d := range []Date{date(2001, 2, 29, 0, 0, 0), date(1582, 10, 10, 0, 0, 0), date(2000, 1, 1, 0, 0, 60), date(-5, 1, 1, 0, 0, 0)} {
		if _, err := std.Encode(d); err == nil {
			t.Errorf("standard Encode(%s) succeeded", d)
		}
	}
	if _, err := mustUnits(t, "days since 2000-01-01", "360_day").Encode(date(2000, 1, 31, 0, 0, 0)); err == nil {
		t.Error("360_day Encode(2000-01-31) succeeded")
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300, 1e12} {
		if d, err := std.Decode(v); err == nil {
			t.Errorf("Decode(%v) = %s, want error", v, d)
		}
	}
	// Before year 0 in julian/standard.
	if d, err := mustUnits(t, "days since 0001-01-01", "julian").Decode(-367); err == nil {
		t.Errorf("julian Decode(-367) = %s, want error", d)
	}
	if d, err := mustUnits(t, "days since 0001-01-01", "julian").Decode(-366); err != nil || d != date(0, 1, 1, 0, 0, 0) {
		t.Errorf("julian Decode(-366) = %s, %v", d, err)
	}
	// calendar none: parsed, but no dates.
	none := mustUnits(t, "days since 2000-01-01", "none")
	if none.Calendar() != NoCalendar || none.String() != "days since 2000-01-01 00:00:00" {
		t.Errorf("none units = %q, %q", none.Calendar(), none.String())
	}
	if _, err := none.Decode(1); err == nil || !strings.Contains(err.Error(), "none") {
		t.Errorf("none Decode: %v", err)
	}
	if _, err := none.Encode(date(2000, 1, 1, 0, 0, 0)); err == nil {
		t.Error("none Encode succeeded")
	}
	var zero TimeUnits
	if _, err := zero.Decode(0); err == nil {
		t.Error("zero TimeUnits Decode succeeded")
	}
	if _, err := zero.Encode(date(2000, 1, 1, 0, 0, 0)); err == nil {
		t.Error("zero TimeUnits Encode succeeded")
	}
}

// Encode(Decode(v)) must give v back exactly for whole and half days, and
// Decode(Encode(d)) must give d back, in every calendar and for several units.
func TestDecodeEncodeRoundTrip(t *testing.T) {
	step := 1
	if testing.Short() {
		step = 97
	}
	for _, cal := range allCalendars {
		// From 3000 the negative offsets cross the 1582 reform and stay after year 0.
		u := mustUnits(t, "days since 3000-01-01", string(cal))
		prev := Date{}
		for i := 1; i <= 1_000_000; i += step {
			for _, v := range []float64{float64(i), float64(i) + 0.5, -float64(i)} {
				d, err := u.Decode(v)
				if err != nil {
					t.Fatalf("%s Decode(%v): %v", cal, v, err)
				}
				back, err := u.Encode(d)
				if err != nil || back != v {
					t.Fatalf("%s Encode(Decode(%v) = %s) = %v, %v", cal, v, d, back, err)
				}
			}
			d, _ := u.Decode(float64(i))
			if d.Compare(prev) <= 0 {
				t.Fatalf("%s Decode(%d) = %s is not after %s", cal, i, d, prev)
			}
			prev = d
		}
	}
	for _, cal := range allCalendars {
		for _, units := range []string{"hours since 2000-01-01 06:00", "seconds since 1970-01-01", "minutes since 1-1-1", "milliseconds since 2000-01-01", "months since 12000-01-01", "years since 130000-01-01"} {
			u := mustUnits(t, units, string(cal))
			exact := cal == Day360 || !strings.HasPrefix(units, "months") && !strings.HasPrefix(units, "years")
			for i := -100_000; i <= 100_000; i += 37 {
				v := float64(i) * 1.25
				d, err := u.Decode(v)
				if err != nil {
					t.Fatalf("%q %s Decode(%v): %v", units, cal, v, err)
				}
				back, err := u.Encode(d)
				if err != nil {
					t.Fatalf("%q %s Encode(%s): %v", units, cal, d, err)
				}
				if exact && back != v || !exact && math.Abs(back-v) > 1e-9*math.Max(1, math.Abs(v)) {
					t.Fatalf("%q %s Encode(Decode(%v) = %s) = %v", units, cal, v, d, back)
				}
				if d2, _ := u.Decode(back); d2 != d {
					t.Fatalf("%q %s Decode(Encode(%s)) = %s", units, cal, d, d2)
				}
			}
		}
	}
}

// Whole days stay exact far from the reference, where a naive
// value*86400 in floating point would lose the day boundary.
func TestDecodeLargeOffsetsExact(t *testing.T) {
	u := mustUnits(t, "days since 2000-01-01", "proleptic_gregorian")
	for _, v := range []float64{3e10, -3e10, 12_345_678_901, 1e10 + 0.5} {
		d, err := u.Decode(v)
		if err != nil {
			t.Fatalf("Decode(%v): %v", v, err)
		}
		if wantHour := int(24 * (v - math.Floor(v))); d.Hour != wantHour || d.Minute != 0 || d.Second != 0 {
			t.Errorf("Decode(%v) = %s, want %02d:00:00", v, d, wantHour)
		}
		if back, err := u.Encode(d); err != nil || back != v {
			t.Errorf("Encode(%s) = %v, %v; want %v", d, back, err, v)
		}
	}
	// 400 Gregorian years are exactly 146097 days.
	if d, err := u.Decode(146097 * 200_000); d != date(80_002_000, 1, 1, 0, 0, 0) {
		t.Errorf("Decode(146097*200000) = %s, %v", d, err)
	}
	if d, err := u.Decode(-146097 * 200_000); d != date(-79_998_000, 1, 1, 0, 0, 0) {
		t.Errorf("Decode(-146097*200000) = %s, %v", d, err)
	}
}

func FuzzParseTimeUnits(f *testing.F) {
	for _, s := range []string{
		"days since 1850-01-01", "hours since 1979-01-01T00:00:00Z", "seconds since 1992-10-8 15:15:42.5 -6:00",
		"days since 0-1-1", "months since -0001-02-29 23:59:59.999999", "min since 1582-10-15 00:00 +0530",
		"days since 1850-01-01 00:00:00 UTC", "us since 2000-01-01 0:0:0.0000001", "days after 1850",
	} {
		for _, cal := range []string{"standard", "noleap", "360_day", "julian", "proleptic_gregorian", "all_leap", "none"} {
			f.Add(s, cal)
		}
	}
	f.Fuzz(func(t *testing.T, units, cal string) {
		u, err := ParseTimeUnits(units, cal)
		if err != nil {
			return
		}
		again, err := ParseTimeUnits(u.String(), cal)
		if err != nil {
			t.Fatalf("%q parsed as %q, which does not re-parse: %v", units, u.String(), err)
		}
		if again != u {
			t.Fatalf("%q parsed as %q, which re-parses differently (%q)", units, u.String(), again.String())
		}
		if u.Calendar() != NoCalendar {
			d, err := u.Decode(0)
			if err != nil || d != u.Reference() {
				t.Fatalf("%q: Decode(0) = %s, %v; want the reference %s", units, d, err, u.Reference())
			}
		}
	})
}
