"""Multipart parts written in place: completing is a rename when parts declare one size, a copy otherwise;
a part short of its declared size is never published."""

from __future__ import annotations

import os

import pytest

from civis_emulator.file_writes import PartLayout, copy_range
from civis_emulator.filestore import FileStore, FileStoreError


@pytest.fixture
def store(tmp_path):
    fs = FileStore(tmp_path / "files")
    yield fs
    fs.close()


def _put(store: FileStore, file_id: int, n: int, data: bytes, declared: int | None = None) -> None:
    store.write_part(file_id, n, [data[:3], data[3:]], size=len(data) if declared is None else declared)


def test_parts_of_one_size_are_assembled_by_a_rename_in_any_order(store, monkeypatch):
    file_id = store.create_multipart("big.bin", 4)
    parts = {1: b"a" * 10, 2: b"b" * 10, 3: b"c" * 10, 4: b"tail"}
    for n in (4, 2, 3, 1):  # the last part first: its offset is not known yet, so it goes to its own file
        _put(store, file_id, n, parts[n])
    copied = []
    monkeypatch.setattr("civis_emulator.file_writes.copy_range",
                        lambda src, off, n, fd, dst: copied.append(n) or copy_range(src, off, n, fd, dst))
    meta = store.complete_multipart(file_id)
    assert open(store.path(file_id), "rb").read() == b"".join(parts[n] for n in range(1, 5))
    assert meta["fileSize"] == 34 and copied == [4]  # only the last part was copied, the rest renamed
    assert not os.path.exists(os.path.join(store.root, "parts", str(file_id)))


def test_last_part_after_the_part_size_is_known_is_written_in_place(store, monkeypatch):
    file_id = store.create_multipart("p.bin", 3)
    for n, data in ((1, b"x" * 8), (3, b"zz"), (2, b"y" * 8)):
        _put(store, file_id, n, data)
    monkeypatch.setattr("civis_emulator.file_writes.copy_range",
                        lambda *a: pytest.fail("nothing should be copied"))
    store.complete_multipart(file_id)
    assert open(store.path(file_id), "rb").read() == b"x" * 8 + b"y" * 8 + b"zz"


def test_parts_of_different_sizes_and_a_resent_part_are_copied_in_order(store):
    file_id = store.create_multipart("odd.bin", 3)
    _put(store, file_id, 1, b"1" * 6)
    _put(store, file_id, 2, b"2" * 9)  # not the size part 1 declared: its own file
    _put(store, file_id, 2, b"2" * 6)  # sent again at the right size: in place, replacing the first copy
    _put(store, file_id, 3, b"3")
    store.write_part(file_id, 1, [b"ONE111"])  # no declared size: its own file, replacing the in-place copy
    store.complete_multipart(file_id)
    assert open(store.path(file_id), "rb").read() == b"ONE111" + b"2" * 6 + b"3"


def test_a_part_short_or_long_of_its_declared_size_is_not_published(store):
    file_id = store.create_multipart("s.bin", 2)
    with pytest.raises(FileStoreError, match="Got 4 of the declared 10 bytes"):
        _put(store, file_id, 1, b"abcd", declared=10)
    with pytest.raises(FileStoreError, match="More bytes than the declared 2"):
        _put(store, file_id, 2, b"abcd", declared=2)
    with pytest.raises(FileStoreError, match=r"parts not uploaded: \[1, 2\]"):
        store.complete_multipart(file_id)


def test_a_single_part_upload_is_renamed_into_place(store, monkeypatch):
    file_id = store.create_multipart("one.csv", 1)
    _put(store, file_id, 1, b"a,b\n1,2\n")
    monkeypatch.setattr("civis_emulator.file_writes.copy_range",
                        lambda *a: pytest.fail("nothing should be copied"))
    meta = store.complete_multipart(file_id)
    assert meta["fileSize"] == 8 and meta["detectedInfo"]["includeHeader"] is True


def test_the_first_part_size_wins_when_parts_race(tmp_path):
    layout = PartLayout(str(tmp_path / "parts"), 3)
    os.makedirs(layout.dir)
    assert layout._claim_part_size(5) == 5
    assert layout._claim_part_size(7) == 5  # a later claimer reads the size already set
