"""Writes the .npy fixtures in npy/testdata. Run from npy/testdata:

    /usr/bin/python3 gen/gen.py

Used numpy 1.24.2 (Debian python3-numpy 1:1.24.2-1+deb12u1).
"""
import numpy as np
from numpy.lib import format as fmt

f4 = np.array([[0.0, 1.5, -2.0], [3.25, np.inf, -0.0]], dtype='<f4')
np.save('f4_2x3.npy', f4)
np.save('f4_scalar.npy', np.array(3.5, dtype='<f4'))
np.save('f4_vec5.npy', np.arange(5, dtype='<f4') / 4)
np.save('f4_empty_0x3.npy', np.zeros((0, 3), dtype='<f4'))
np.save('f4_4d.npy', (np.arange(12, dtype='<f4') - 6).reshape(2, 1, 3, 2))
np.save('f8_2x2.npy', np.array([[0.1, -1e300], [2.5, 1e-50]], dtype='<f8'))
np.save('i8_vec3.npy', np.array([-1, 0, 1 << 40], dtype='<i8'))
np.save('f4_big_endian.npy', f4.astype('>f4'))
np.save('f4_fortran.npy', np.asfortranarray(f4))
np.save('i4_vec3.npy', np.array([1, 2, 3], dtype='<i4'))
for v in (2, 3):
    with open('f4_2x3_v%d.npy' % v, 'wb') as f:
        fmt.write_array(f, f4, version=(v, 0))

# A header whose unpadded length lands on the 64-byte boundary, so numpy
# pads a full 64 bytes (padlen is never 0).
np.save('f4_pad64.npy', np.arange(200, dtype='<f4').reshape(
    (2,) + (1,) * 11 + (10, 10)) / 8)
