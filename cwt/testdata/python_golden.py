"""Writes python_datainputs.json: the DataInputs the Python cwt client (2.3.9)
produces for the cases of datainputs_test.go. Every name is fixed so the
output is deterministic. Run from a checkout of ESGF/esgf-compute-api with
Debian's python3-owslib installed:

    PYTHONPATH=/path/to/esgf-compute-api /usr/bin/python3 python_golden.py > python_datainputs.json
"""
import json

import cwt
from cwt import utilities


def proc(identifier, name):
    return cwt.Process(identifier=identifier, name=name)


def encode(p):
    # What WPSClient.prepare_data_inputs sends: each list json.dumps-ed.
    d = utilities.prepare_data_inputs(p, None, None)
    return {k: json.dumps(d[k]) for k in ("variable", "domain", "operation")}


cases = {}

# client.md section 4: CDAT.max(CDAT.subset(v1, domain=dm, axes=["lat","lon"]), axes="time")
mask = cwt.Mask("http://x/lsm.nc", "sftlf", "var_data>0.5", name="m0")
dm = cwt.Domain(lat=(0, 90), time=slice(0, 10), mask=mask, name="dm")
v1 = cwt.Variable("http://x/t.nc", "tas", name="v1", domain=dm, mime_type="application/netcdf")
s0 = proc("CDAT.subset", "s0")(v1, domain=dm, axes=["lat", "lon"], weightoption="generate")
cases["section4"] = encode(proc("CDAT.max", "mx0")(s0, axes="time"))

# A subset with the three kinds of dimension, given as keyword arguments.
tas = cwt.Variable("file:///data/sample/tas_day_2000.nc", "tas", name="v0")
d0 = cwt.Domain(time=("2000-03", "2000-04"), lat=(-30, 30), lon=(-45.5, 45.5), lev=slice(0, 10, 2), name="d0")
cases["subset"] = encode(proc("CDAT.subset", "s0")(tas, domain=d0))

# Dimensions given as objects, in order, with floats Python prints in
# different notations.
d1 = cwt.Domain(
    cwt.Dimension("lat", 0.0001, 1e16),
    cwt.Dimension("lon", 1e-05, 123456789.25),
    cwt.Dimension("plev", 100000.0, 1.5e300),
    cwt.Dimension("time", "1980-01-01 00:00:00", "1989-12-31T23:59:59", crs=cwt.TIMESTAMPS),
    name="d1",
)
cases["floats"] = encode(proc("CDAT.subset", "s1")(tas, domain=d1))

# Several inputs, a gridder set as the documentation says, parameters with
# lists, numbers and infinity.
files = [cwt.Variable("file:///data/tas_%d.nc" % y, "tas", name="f%d" % y) for y in (2000, 2001)]
agg = proc("CDAT.aggregate", "a0")(*files)
agg.gridder = cwt.T42
agg.add_parameters(cwt.NamedParameter("threshold", 0.5, float("inf")), count=3)
cases["aggregate"] = encode(agg)

# Text Python escapes: non-ASCII, quotes, backslash, control characters.
odd = cwt.Variable("file:///data/été/\"q\"\\x.nc", "tas", name="v\u00e9")
op = proc("CDAT.where", "w0")(odd, cond="tas>273.15 && tas<300", label="caf\u00e9 \U0001F600\n\t<&>")
cases["escapes"] = encode(op)

# A workflow: shared variables, nested operations, the container last.
u = cwt.Variable("file:///data/ua.nc", "ua", name="u")
v = cwt.Variable("file:///data/va.nc", "va", name="v")
dom = cwt.Domain(time=slice(0, 12), name="dy")
su = proc("CDAT.subset", "su")(u, domain=dom)
sv = proc("CDAT.subset", "sv")(v, domain=dom)
mag = proc("CDAT.add", "sum")(su, sv)
avg = proc("CDAT.average", "avg")(mag, u, axes="time")
wf = proc("CDAT.workflow", "wf")(avg, domain=cwt.Domain(lat=(-30, 30), name="dw"))
cases["workflow"] = encode(wf)

print(json.dumps(cases, indent=1, sort_keys=True))
