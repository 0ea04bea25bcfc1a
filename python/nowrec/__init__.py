"""nowrec: real-time user-interest capture with language models.

The C++ library's classes, with NumPy arrays in and out (float32 and int64, read in place where
the layout allows) and the GIL released during every call that does real work. See
docs/python.md.
"""

from ._nowrec import *  # noqa: F401,F403
from ._errors import Error  # noqa: F401
from ._nowrec import ErrorCode  # noqa: F401
from ._nowrec import version_string as __version__  # noqa: F401
