"""nowrec.Error, the one exception the library raises (defined here so type checkers see it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._nowrec import ErrorCode


class Error(RuntimeError):
    """Raised by every fallible nowrec call.

    str(error) names the file, field or argument at fault; error.code is the nowrec.ErrorCode.
    """

    code: ErrorCode
