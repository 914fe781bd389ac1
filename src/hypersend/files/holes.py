"""Giving a file's preallocated but unwritten blocks back to the file system (Linux
`fallocate` with `FALLOC_FL_PUNCH_HOLE`): the file keeps its size, the range reads as zeros
and takes no disk until it is written."""

import ctypes
import ctypes.util
import errno
import os
from collections.abc import Callable

_KEEP_SIZE = 0x01
_PUNCH_HOLE = 0x02


def _fallocate() -> Callable[[int, int, int, int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        function = libc.fallocate
    except (OSError, AttributeError):  # not Linux: no hole punching, nothing is given back
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    function.restype = ctypes.c_int
    return function


_FALLOCATE = _fallocate()


def punch_hole(fd: int, offset: int, length: int) -> bool:
    """Free the blocks of `length` bytes at `offset`; False where the system cannot."""
    if _FALLOCATE is None:
        return False
    if _FALLOCATE(fd, _KEEP_SIZE | _PUNCH_HOLE, offset, length) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
        return False
    raise OSError(code, os.strerror(code))
