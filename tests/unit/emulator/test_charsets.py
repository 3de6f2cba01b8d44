"""The emulator's character sets: imports take UTF-8 only; preprocessing converts to it (warehouse/charsets.py)."""

from __future__ import annotations

import codecs
import gzip

import pytest

from civis_emulator.warehouse.charsets import NotUtf8Error, copy_as_utf8, detect_charset

TEXT = "id,name\n1,caf\u00e9\n2,na\u00efve\n"


def write(tmp_path, data: bytes, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(("data", "charset"), [
    (TEXT.encode("utf-8"), "utf-8"),
    (b"id\n1\n", "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("utf-16"), "utf-16"),
    (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
    (TEXT.encode("latin-1"), "cp1252"),
])
def test_detect_charset(tmp_path, data, charset):
    assert detect_charset(write(tmp_path, data)) == charset


@pytest.mark.parametrize("force", [True, False])
def test_copy_as_utf8_converts_what_is_not_utf8_and_keeps_gzip(tmp_path, force):
    src = write(tmp_path, gzip.compress(TEXT.encode("latin-1")), "in.csv.gz")
    dst = str(tmp_path / "out.csv.gz")
    assert copy_as_utf8(src, dst, "gzip", force=force) == ("cp1252", True)
    assert gzip.decompress(open(dst, "rb").read()).decode("utf-8") == TEXT


def test_copy_as_utf8_forced_rewrites_utf8_without_its_bom(tmp_path):
    data = codecs.BOM_UTF8 + TEXT.encode("utf-8")
    src, dst = write(tmp_path, data), str(tmp_path / "out.csv")
    assert copy_as_utf8(src, dst, "none", force=False) == ("utf-8-sig", False)
    assert open(dst, "rb").read() == data
    assert copy_as_utf8(src, dst, "none", force=True) == ("utf-8-sig", True)
    assert open(dst, "rb").read() == TEXT.encode("utf-8")


def test_copy_as_utf8_discards_bytes_with_no_character(tmp_path):
    src, dst = write(tmp_path, b"id,name\n1,a\x81b\xe9\n"), str(tmp_path / "out.csv")  # 0x81: none in cp1252
    copy_as_utf8(src, dst, "none", force=True)
    assert open(dst, encoding="utf-8").read() == "id,name\n1,ab\u00e9\n"


@pytest.mark.parametrize("max_errors", [None, 0, 10])
@pytest.mark.parametrize("mode", ["drop", "append"])
def test_an_import_that_is_not_utf8_fails_with_file_and_line_and_loads_nothing(wh, tmp_path, max_errors, mode):
    wh.import_csv([write(tmp_path, b"id,name\n0,plain\n", "first.csv")], "s", "t")
    bad = write(tmp_path, TEXT.encode("latin-1"), "latin1.csv")
    with pytest.raises(NotUtf8Error) as info:
        wh.import_csv([write(tmp_path, b"id,name\n5,ok\n", "good.csv"), bad], "s", "t", if_exists=mode,
                      max_errors=max_errors)
    assert info.value.path == bad and info.value.line == 2
    assert str(info.value).startswith("latin1.csv is not valid UTF-8 (line 2)")
    assert wh.query("SELECT name FROM s.t", preview_rows=None).rows == [["plain"]]


def test_an_import_of_converted_text_loads_it(wh, tmp_path):
    src, dst = write(tmp_path, TEXT.encode("utf-16")), str(tmp_path / "out.csv")
    copy_as_utf8(src, dst, "none", force=True)
    wh.import_csv([dst], "s", "t")
    assert wh.query("SELECT name FROM s.t ORDER BY id", preview_rows=None).rows == [["caf\u00e9"], ["na\u00efve"]]
