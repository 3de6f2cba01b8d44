"""Character sets of CSV files: Civis loads UTF-8 text only, and CSV preprocessing converts to it.

The spec of ``POST /files/preprocess/csv``: with ``forceCharacterSetConversion`` "the file will always be
converted to UTF-8 and any character that cannot be converted will be discarded"; without it "the
character set conversion will only run if the detected character set is not compatible with UTF-8".
Detection here: a UTF-16 or UTF-8 byte order mark says which; valid UTF-8 is UTF-8; anything else is read
as Windows-1252 (a superset of Latin-1, what such CSV files almost always are).
"""

from __future__ import annotations

import codecs
import gzip
import os
import re
import shutil
from collections.abc import Iterator
from typing import IO

from .errors import WarehouseError

_CHUNK = 1024 * 1024
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
#: Character sets a UTF-8 reader takes as they are.
UTF8_COMPATIBLE = ("utf-8", "utf-8-sig")


class NotUtf8Error(WarehouseError):
    """An import met bytes that are not UTF-8: ``path`` and the 1-based ``line`` where (0: unknown)."""

    def __init__(self, path: str, line: int) -> None:
        self.path, self.line = path, line
        where = f" (line {line})" if line else ""
        super().__init__(f"{os.path.basename(path)} is not valid UTF-8{where}: convert the file to UTF-8 "
                         "before importing it")


_INVALID_UNICODE = re.compile(r"CSV Error on Line: (\d+).*Invalid unicode", re.DOTALL)
_FILE = re.compile(r"^\s*file = (.+)$", re.MULTILINE)


def raise_if_not_utf8(duckdb_message: str, default_path: str) -> None:
    """Raise :class:`NotUtf8Error` (its file and line) when DuckDB's CSV error is about bytes that are not UTF-8."""
    line = _INVALID_UNICODE.search(duckdb_message)
    if line:
        named = _FILE.search(duckdb_message)
        raise NotUtf8Error(named.group(1).strip() if named else default_path, int(line.group(1)))


def _open(path: str, compression: str, mode: str) -> IO[bytes]:
    return gzip.open(path, mode) if compression == "gzip" else open(path, mode)  # type: ignore[return-value]


def _chunks(path: str, compression: str) -> Iterator[bytes]:
    with _open(path, compression, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def detect_charset(path: str, compression: str = "none") -> str:
    """``utf-8-sig``, ``utf-16`` (both by their byte order marks), ``utf-8`` or ``cp1252``."""
    with _open(path, compression, "rb") as fh:
        head = fh.read(4)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        for chunk in _chunks(path, compression):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def copy_as_utf8(src: str, dst: str, compression: str, *, force: bool) -> tuple[str, bool]:
    """Copy ``src`` to ``dst`` (same compression) as UTF-8: (the detected character set, converted?).

    Without ``force`` a file already UTF-8 (a byte order mark included) is copied as it is; with it every
    file is decoded and written again (no byte order mark), and a byte with no character is discarded.
    """
    try:
        charset = detect_charset(src, compression)
        if charset in UTF8_COMPATIBLE and not force:
            shutil.copyfile(src, dst)
            return charset, False
        decoder = codecs.getincrementaldecoder(charset)("ignore")
        with _open(dst, compression, "wb") as out:
            for chunk in _chunks(src, compression):
                out.write(decoder.decode(chunk).encode("utf-8"))
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except (OSError, EOFError) as exc:
        raise WarehouseError(f"cannot read it: {exc}") from None
    return charset, True
