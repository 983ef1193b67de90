"""Tests for app.core.storage against a real directory and a real S3 API (moto server)."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from app.core import storage as storage_mod
from app.core.storage import (
    InvalidKey,
    KeyNotFound,
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    make_storage,
)

BUCKET = "woundtrack-test"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str) -> str:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("S3_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return moto_endpoint


@pytest.fixture
def s3_bucket(aws_env: str) -> Iterator[str]:
    client = boto3.client("s3", endpoint_url=aws_env)
    client.create_bucket(Bucket=BUCKET)
    yield BUCKET
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return make_storage(tmp_path / "store")
    request.getfixturevalue("s3_bucket")
    return make_storage(f"s3://{BUCKET}/deploy-a")


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "upload.bin"
    path.write_bytes(os.urandom(200_000))
    return path


# --- the contract, for both backends -------------------------------------------


def test_round_trip(store: Storage, src: Path) -> None:
    key = "photos/0b5e/original.jpg"
    assert isinstance(store, Storage)
    assert not store.exists(key)
    store.put_file(key, src, "image/jpeg")
    assert store.exists(key)
    assert store.size(key) == src.stat().st_size
    with store.open(key) as fh:
        assert fh.read() == src.read_bytes()


def test_open_iterates_in_chunks(store: Storage, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    data = os.urandom(3 * storage_mod.CHUNK_SIZE + 17)
    big.write_bytes(data)
    store.put_file("exports/x/data.csv", big, "text/csv")
    stream = store.open("exports/x/data.csv")
    chunks = list(stream)
    stream.close()
    assert b"".join(chunks) == data
    assert len(chunks) >= 4
    assert all(len(c) <= storage_mod.CHUNK_SIZE for c in chunks)


def test_overwrite_replaces(store: Storage, src: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.bin"
    other.write_bytes(b"second version")
    store.put_file("a/b.jpg", src, "image/jpeg")
    store.put_file("a/b.jpg", other, "image/jpeg")
    with store.open("a/b.jpg") as fh:
        assert fh.read() == b"second version"


def test_missing_keys(store: Storage) -> None:
    assert not store.exists("photos/none.jpg")
    with pytest.raises(KeyNotFound):
        store.open("photos/none.jpg")
    with pytest.raises(KeyNotFound):
        store.size("photos/none.jpg")
    store.delete("photos/none.jpg")  # idempotent


def test_delete(store: Storage, src: Path) -> None:
    store.put_file("photos/1/thumb.jpg", src, "image/jpeg")
    store.delete("photos/1/thumb.jpg")
    assert not store.exists("photos/1/thumb.jpg")


def test_list_keys_by_prefix(store: Storage, src: Path) -> None:
    keys = ["photos/p1/original.jpg", "photos/p1/thumb.jpg", "photos/p2/large.jpg", "exports/e.csv"]
    for key in keys:
        store.put_file(key, src, "application/octet-stream")
    assert sorted(store.list_keys()) == sorted(keys)
    assert sorted(store.list_keys("photos/")) == keys[:3]
    assert sorted(store.list_keys("photos/p1")) == keys[:2]
    assert list(store.list_keys("nothing/")) == []


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "photos/../../x",
        "/etc/passwd",
        "photos\\x.jpg",
        "",
        ".hidden",
        "photos/.tmp-abc",
        "a//b",
        "a/./b",
        "photos/x.jpg\x00",
        "C:/x",
        "x" * 600,
    ],
)
def test_unsafe_keys_rejected(store: Storage, src: Path, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put_file(key, src, "image/jpeg")
    with pytest.raises(InvalidKey):
        store.open(key)
    with pytest.raises(InvalidKey):
        store.exists(key)


def test_healthcheck_true_when_writable(store: Storage) -> None:
    assert store.healthcheck() is True
    assert list(store.list_keys()) == []  # the probe leaves nothing behind


# --- local specifics ---------------------------------------------------------------


def test_local_files_stay_inside_root(tmp_path: Path, src: Path) -> None:
    root = tmp_path / "store"
    store = LocalStorage(root)
    store.put_file("photos/a/original.jpg", src, "image/jpeg")
    assert (root / "photos" / "a" / "original.jpg").read_bytes() == src.read_bytes()
    assert not (tmp_path / "photos").exists()


def _leftovers(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*") if p.is_file()]


def test_local_failed_replace_leaves_nothing(
    tmp_path: Path, src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStorage(tmp_path / "store")

    def broken_replace(a: str, b: str) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(storage_mod.os, "replace", broken_replace)
    with pytest.raises(StorageError):
        store.put_file("photos/a/original.jpg", src, "image/jpeg")
    assert _leftovers(tmp_path / "store") == []
    assert not store.exists("photos/a/original.jpg")


def test_local_disk_full_keeps_the_previous_version(
    tmp_path: Path, src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStorage(tmp_path / "store")
    store.put_file("photos/a/original.jpg", src, "image/jpeg")

    real_fsync = os.fsync

    def full_disk_fsync(fd: int) -> None:
        # ENOSPC surfaces at fsync on delayed-allocation file systems; only file
        # fds fail, so the directory fsync still works like on a real full disk
        if os.path.isfile(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(storage_mod.os, "fsync", full_disk_fsync)
    other = tmp_path / "other.bin"
    other.write_bytes(b"new content that must not half-replace the old")
    with pytest.raises(StorageError, match="No space left"):
        store.put_file("photos/a/original.jpg", other, "image/jpeg")
    assert _leftovers(tmp_path / "store") == ["original.jpg"]
    with store.open("photos/a/original.jpg") as fh:
        assert fh.read() == src.read_bytes()
    assert store.healthcheck() is False


def test_local_healthcheck_false_when_root_unusable(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = LocalStorage(root)
    root.rmdir()
    root.write_text("not a directory")  # works as root too, unlike chmod
    assert store.healthcheck() is False


def test_list_keys_skips_unfinished_writes(tmp_path: Path, src: Path) -> None:
    store = LocalStorage(tmp_path / "store")
    store.put_file("photos/a/original.jpg", src, "image/jpeg")
    (tmp_path / "store" / "photos" / "a" / ".tmp-crashed").write_bytes(b"partial")
    assert list(store.list_keys()) == ["photos/a/original.jpg"]


# --- S3 specifics and the factory --------------------------------------------------


def test_s3_content_type_and_prefix(s3_bucket: str, src: Path, aws_env: str) -> None:
    store = make_storage(f"s3://{s3_bucket}/deploy-a")
    assert isinstance(store, S3Storage)
    store.put_file("photos/a/original.jpg", src, "image/jpeg")
    client = boto3.client("s3", endpoint_url=aws_env)
    head = client.head_object(Bucket=s3_bucket, Key="deploy-a/photos/a/original.jpg")
    assert head["ContentType"] == "image/jpeg"


def test_s3_missing_bucket_raises_storage_error(aws_env: str, src: Path) -> None:
    store = make_storage("s3://no-such-bucket")
    assert store.healthcheck() is False
    with pytest.raises(StorageError):
        store.put_file("photos/a.jpg", src, "image/jpeg")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_s3_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch, aws_env: str, src: Path) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    store = make_storage("s3://anything")
    assert store.healthcheck() is False
    with pytest.raises(StorageError):
        store.put_file("photos/a.jpg", src, "image/jpeg")
    with pytest.raises(StorageError):
        store.exists("photos/a.jpg")


def test_make_storage_local_forms(tmp_path: Path) -> None:
    assert isinstance(make_storage(tmp_path / "a"), LocalStorage)
    assert isinstance(make_storage(str(tmp_path / "b")), LocalStorage)
    local = make_storage(f"file://{tmp_path / 'c'}")
    assert isinstance(local, LocalStorage) and local.root == (tmp_path / "c").resolve()
    assert (tmp_path / "c").is_dir()
    with pytest.raises(ValueError):
        make_storage("s3://")


def test_s3_endpoint_from_s3_endpoint_url(
    monkeypatch: pytest.MonkeyPatch, s3_bucket: str, aws_env: str, src: Path
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("S3_ENDPOINT_URL", aws_env)
    store = make_storage(f"s3://{s3_bucket}")
    store.put_file("k.jpg", src, "image/jpeg")
    assert store.size("k.jpg") == src.stat().st_size
