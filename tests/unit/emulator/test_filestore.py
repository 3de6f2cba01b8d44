"""The emulator's file store: ids, metadata, streaming and multipart uploads, CSV detection."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import threading
import tracemalloc

import pytest

from civis_emulator.filestore import (
    CHUNK_SIZE,
    FileNotFound,
    FileStore,
    FileStoreError,
    detect_csv,
    open_maybe_gzip,
)


@pytest.fixture
def store(tmp_path):
    fs = FileStore(tmp_path / "files")
    yield fs
    fs.close()


def test_create_upload_get(store):
    file_id = store.create("people.csv")
    pending = store.get(file_id)
    assert pending["state"] == "pending" and pending["fileSize"] is None and pending["fileUrl"] is None
    with pytest.raises(FileStoreError, match="not been uploaded"):
        store.path(file_id)

    meta = store.write_stream(file_id, iter([b"id,name\n", b"1,alice\n", b"2,bob\n"]))
    assert meta["id"] == file_id and meta["name"] == "people.csv"
    assert meta["fileSize"] == len(b"id,name\n1,alice\n2,bob\n")
    assert meta["state"] == "uploaded"
    assert meta["fileUrl"] == f"/_emulator/files/{file_id}/content"
    assert store.get(file_id, base_url="http://127.0.0.1:9")["fileUrl"].startswith("http://127.0.0.1:9/")
    assert open(store.path(file_id), "rb").read() == b"id,name\n1,alice\n2,bob\n"
    assert meta["detectedInfo"] == {
        "includeHeader": True, "columnDelimiter": "comma", "compression": "none",
        "tableColumns": [{"name": "id", "sqlType": "INTEGER"}, {"name": "name", "sqlType": "VARCHAR(5)"}],
    }
    created = dt.datetime.fromisoformat(meta["createdAt"].replace("Z", "+00:00"))
    expires = dt.datetime.fromisoformat(meta["expiresAt"].replace("Z", "+00:00"))
    assert dt.timedelta(days=29, hours=23) < expires - created <= dt.timedelta(days=30)


def test_ids_increase_and_expiry_options(store):
    a = store.create("a")
    b = store.create("b", expires_at=None)
    c = store.create("c", expires_at="2030-01-02T03:04:05Z")
    assert a < b < c
    assert store.get(b)["expiresAt"] is None
    assert store.get(c)["expiresAt"] == "2030-01-02T03:04:05.000Z"
    assert store.update(c, name="renamed", expires_at=None)["name"] == "renamed"
    assert store.get(c)["expiresAt"] is None
    with pytest.raises(FileStoreError, match="Invalid date-time"):
        store.create("d", expires_at="tomorrow")
    with pytest.raises(FileStoreError, match="needs a name"):
        store.create("")


def test_write_from_file_object_and_rewrite(store):
    file_id = store.create("blob.bin")
    store.write_stream(file_id, io.BytesIO(b"\x00\x01" * 10))
    assert store.get(file_id)["detectedInfo"] is None  # binary: not a CSV
    store.write_stream(file_id, [b"x"])
    assert store.get(file_id)["fileSize"] == 1
    with pytest.raises(FileStoreError, match="must yield bytes"):
        store.write_stream(file_id, ["text"])


def test_unknown_ids(store):
    for call in (store.get, store.path, store.delete, lambda i: store.write_stream(i, [b""])):
        with pytest.raises(FileNotFound, match="File 999 not found"):
            call(999)


def test_delete_removes_bytes_and_metadata(store):
    file_id = store.create("x.csv")
    path = store.write_stream(file_id, [b"a\n1\n"]) and store.path(file_id)
    store.delete(file_id)
    assert not os.path.exists(path)
    with pytest.raises(FileNotFound):
        store.get(file_id)


def test_persistence_across_reopen(tmp_path):
    first = FileStore(tmp_path / "fs")
    file_id = first.create("keep.csv")
    first.write_stream(file_id, [b"a,b\n1,2\n"])
    meta = first.get(file_id)
    first.close()
    second = FileStore(tmp_path / "fs")
    assert second.get(file_id) == meta
    assert open(second.path(file_id), "rb").read() == b"a,b\n1,2\n"
    assert second.create("next") == file_id + 1
    second.close()


def test_multipart_assembles_parts_in_order(store):
    file_id = store.create_multipart("big.csv", 3)
    assert store.get(file_id)["numParts"] == 3
    store.write_part(file_id, 3, [b"3,c\n"])
    store.write_part(file_id, 1, io.BytesIO(b"n,s\n1,a\n"))
    with pytest.raises(FileStoreError, match=r"parts not uploaded: \[2\]"):
        store.complete_multipart(file_id)
    store.write_part(file_id, 2, [b"2,", b"b\n"])
    store.write_part(file_id, 2, [b"2,b\n"])  # a re-sent part replaces the first copy
    meta = store.complete_multipart(file_id)
    assert open(store.path(file_id), "rb").read() == b"n,s\n1,a\n2,b\n3,c\n"
    assert meta["fileSize"] == 16 and meta["state"] == "uploaded"
    assert not os.path.exists(os.path.join(store.root, "parts", str(file_id)))
    assert store.complete_multipart(file_id) == meta  # idempotent
    with pytest.raises(FileStoreError, match="already complete"):
        store.write_part(file_id, 1, [b""])


def test_multipart_validation(store):
    with pytest.raises(FileStoreError, match="positive integer"):
        store.create_multipart("x", 0)
    file_id = store.create_multipart("x", 2)
    with pytest.raises(FileStoreError, match=r"out of range 1\.\.2"):
        store.write_part(file_id, 3, [b""])
    with pytest.raises(FileStoreError, match="out of range"):
        store.write_part(file_id, 0, [b""])
    with pytest.raises(FileStoreError, match="multipart upload: use write_part"):
        store.write_stream(file_id, [b""])
    single = store.create("y")
    with pytest.raises(FileStoreError, match="not a multipart upload"):
        store.write_part(single, 1, [b""])
    with pytest.raises(FileStoreError, match="not a multipart upload"):
        store.complete_multipart(single)


def test_concurrent_part_uploads(store):
    parts = 8
    file_id = store.create_multipart("p.csv", parts)
    payloads = {n: f"part{n}\n".encode() * 5000 for n in range(1, parts + 1)}
    threads = [threading.Thread(target=store.write_part, args=(file_id, n, [payloads[n]])) for n in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.complete_multipart(file_id)
    assert open(store.path(file_id), "rb").read() == b"".join(payloads[n] for n in range(1, parts + 1))


def test_streaming_uses_constant_memory(store):
    chunk = b"0123456789abcdef" * (CHUNK_SIZE // 16)
    total_chunks = 24  # 24 MB

    def gen():
        for _ in range(total_chunks):
            yield chunk

    file_id = store.create_multipart("big.bin", 2)
    tracemalloc.start()
    try:
        store.write_part(file_id, 1, gen())
        store.write_part(file_id, 2, gen())
        store.complete_multipart(file_id)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert store.get(file_id)["fileSize"] == 2 * total_chunks * len(chunk)
    assert peak < 4 * CHUNK_SIZE, peak


def test_purge_expired(store):
    old = store.create("old", expires_at="2000-01-01T00:00:00Z")
    keep = store.create("keep", expires_at=None)
    assert store.purge_expired() == [old]
    assert [f["id"] for f in store.list()] == [keep]


# ---------------------------------------------------------------------- CSV detection
def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("delimiter,name", [(",", "comma"), ("\t", "tab"), ("|", "pipe")])
def test_detect_delimiters(tmp_path, delimiter, name):
    d = delimiter
    text = f"id{d}city{d}amount\n1{d}\"Paris, FR\"{d}2.5\n2{d}Rome{d}3\n"
    info = detect_csv(write(tmp_path, "d.csv", text.encode()))
    assert info["columnDelimiter"] == name
    assert info["includeHeader"] is True
    assert [c["sqlType"] for c in info["tableColumns"]] == ["INTEGER", "VARCHAR(9)", "DOUBLE PRECISION"]


def test_detect_no_header(tmp_path):
    info = detect_csv(write(tmp_path, "n.csv", b"1,alice,2024-01-01\n2,bob,2024-01-02\n"))
    assert info["includeHeader"] is False
    assert info["tableColumns"] == [{"name": "column0", "sqlType": "INTEGER"},
                                    {"name": "column1", "sqlType": "VARCHAR(5)"},
                                    {"name": "column2", "sqlType": "DATE"}]


def test_detect_gzip_reads_only_the_head(tmp_path):
    body = b"a,b\n" + b"".join(b"%d,x%d\n" % (i, i) for i in range(300_000))
    path = write(tmp_path, "g.csv.gz", gzip.compress(body))
    info = detect_csv(path)
    assert info["compression"] == "gzip" and info["includeHeader"] is True
    assert info["tableColumns"][0] == {"name": "a", "sqlType": "INTEGER"}
    with open_maybe_gzip(path) as fh:
        assert fh.read(4) == b"a,b\n"


def test_detect_large_plain_file_cuts_partial_line(tmp_path):
    body = b"n,s\n" + b"".join(b"%d,%s\n" % (i, b"y" * (i % 7 + 1)) for i in range(100_000))
    info = detect_csv(write(tmp_path, "l.csv", body))
    assert info["tableColumns"] == [{"name": "n", "sqlType": "INTEGER"}, {"name": "s", "sqlType": "VARCHAR(7)"}]


def test_detect_rejects_non_csv(tmp_path):
    assert detect_csv(write(tmp_path, "e.csv", b"")) is None
    assert detect_csv(write(tmp_path, "b.bin", bytes(range(256)))) is None
    assert detect_csv(write(tmp_path, "z.gz", b"\x1f\x8bnot really gzip")) is None
