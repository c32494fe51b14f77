package cf

import (
	"strings"

	"github.com/computewps/computewps/internal/netcdf"
)

// Axis is the role of a coordinate in the CF sense.
type Axis int

const (
	AxisNone Axis = iota
	AxisX         // longitude
	AxisY         // latitude
	AxisZ         // vertical
	AxisT         // time
)

func (a Axis) String() string {
	return [...]string{"none", "X", "Y", "Z", "T"}[a]
}

// DetectAxis finds a coordinate variable's axis from, in order, its axis
// attribute, standard_name, units and finally its name.
func DetectAxis(v netcdf.Var) Axis {
	if a, ok := textAttr(v, "axis"); ok {
		switch strings.ToUpper(strings.TrimSpace(a)) {
		case "X":
			return AxisX
		case "Y":
			return AxisY
		case "Z":
			return AxisZ
		case "T":
			return AxisT
		}
	}
	if sn, ok := textAttr(v, "standard_name"); ok {
		switch strings.TrimSpace(sn) {
		case "longitude", "grid_longitude", "projection_x_coordinate":
			return AxisX
		case "latitude", "grid_latitude", "projection_y_coordinate":
			return AxisY
		case "time":
			return AxisT
		case "air_pressure", "height", "depth", "altitude", "model_level_number",
			"atmosphere_hybrid_sigma_pressure_coordinate", "atmosphere_sigma_coordinate":
			return AxisZ
		}
	}
	if u, ok := textAttr(v, "units"); ok {
		u = strings.ToLower(strings.TrimSpace(u))
		switch u {
		case "degrees_east", "degree_east", "degree_e", "degrees_e", "degreee", "degreese":
			return AxisX
		case "degrees_north", "degree_north", "degree_n", "degrees_n", "degreen", "degreesn":
			return AxisY
		case "pa", "hpa", "mbar", "millibar", "bar":
			return AxisZ
		}
		if strings.Contains(u, " since ") {
			return AxisT
		}
	}
	if p, ok := textAttr(v, "positive"); ok {
		if p = strings.ToLower(strings.TrimSpace(p)); p == "up" || p == "down" {
			return AxisZ
		}
	}
	return AxisByName(v.Name)
}

// AxisByName guesses an axis from a conventional name ("lat", "longitude",
// "time", "plev", ...). It is also how a domain names a dimension it does
// not know the exact name of.
func AxisByName(name string) Axis {
	switch strings.ToLower(name) {
	case "lon", "longitude", "x", "nav_lon", "rlon":
		return AxisX
	case "lat", "latitude", "y", "nav_lat", "rlat":
		return AxisY
	case "lev", "level", "plev", "z", "height", "depth", "alt", "altitude", "olevel", "pressure":
		return AxisZ
	case "time", "t", "times":
		return AxisT
	}
	return AxisNone
}

func textAttr(v netcdf.Var, name string) (string, bool) {
	a, ok := v.Attr(name)
	if !ok {
		return "", false
	}
	return a.Text()
}
