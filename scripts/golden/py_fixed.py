"""Writes envs/core/py-fixed.golden.json: CPython's f"{x:.{d}f}" for a seeded mix of edge values.

Run from the repository root with any CPython 3: python3 scripts/golden/py_fixed.py
Each row is [x as float.hex(x) (exact), digits, CPython's text]. The test reads the hex back exactly.
"""
import json
import math
import random
import struct
import sys

rng = random.Random(20261129)
values = [0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.125, -0.125, 0.375, 16.625, -16.625, 2.675, -2.675,
          1.005, -1.005, 0.0625, -0.0625, 5e-324, -5e-324, 1e-300, -1e-300, 0.001, -0.001, 0.004999, -0.004999,
          0.005, -0.005, 0.0050000001, -0.0050000001, 1e15, -1e15, 1e21, -1e21, 1e22, 1.5e300, -1.5e300,
          1.7976931348623157e308, -1.7976931348623157e308, 9007199254740993.0, 123456789.125, -1188.64,
          -1254.59, 1598.61, 0.995, 0.9995, 0.01, 0.99, -0.0001, 13.2963, 4.5, 0.45, 0.055, 0.0005]
# Exact binary ties at 1-4 digits: k/2^m values whose scaled fraction is exactly one half.
for _ in range(150):
    k = rng.randint(-10**6, 10**6)
    m = rng.randint(1, 14)
    values.append(k / 2**m)
# Random magnitudes across the whole range, both signs.
for _ in range(250):
    e = rng.uniform(-12, 25)
    values.append(rng.choice([-1, 1]) * 10**e)
# Random bit patterns (finite only).
for _ in range(150):
    bits = rng.getrandbits(64)
    x = struct.unpack('<d', struct.pack('<Q', bits))[0]
    if math.isfinite(x):
        values.append(x)
rows = []
for x in values:
    for d in (0, 1, 2, 3, 4, 6):
        rows.append([float.hex(x), d, format(x, '.%df' % d)])
for x in (math.nan, math.inf, -math.inf):
    for d in (2, 3):
        rows.append([repr(x), d, format(x, '.%df' % d)])
json.dump({'python': sys.version.split()[0], 'rows': rows}, open('envs/core/py-fixed.golden.json', 'w'), separators=(',', ':'))
print(len(rows), 'rows')
