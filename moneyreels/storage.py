"""Where jobs' files and uploaded media are kept: the jobs folder (the default) or an S3-compatible bucket.

A key is a relative path of clean segments (`<job id>/final.mp4`, `media/uploads/clip.mp4`); `key()`
refuses anything else, so no key from a URL leaves its prefix. Workers render in a local folder;
with a bucket they upload the finished files (`upload`) and fetch what they need back
(`fetch`, `download`). boto3 reads the endpoint, region and credentials from its own settings
(AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, ~/.aws).
"""

import contextlib
import io
import logging
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

from .errors import StorageUnavailable

log = logging.getLogger(__name__)

MEDIA = "media"  # the key prefix of uploaded media; job ids are uuids, never this
PRESIGN_SECONDS = 3600
JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_stores: dict = {}
_lock = threading.Lock()


class BadKey(ValueError):
    """A key that is not a relative path of clean segments."""


def key(*parts: str) -> str:
    """Join parts into a key, refusing empty, `.`, `..`, absolute and backslashed segments and NULs."""
    joined = "/".join(parts)
    segments = joined.split("/")
    if any(segment in ("", ".", "..") or "\\" in segment or "\x00" in segment for segment in segments):
        raise BadKey(joined[:200])
    return joined


class FileStore:
    """Keys as files under a root folder. With the jobs folder as root (the default) a job's folder is
    its prefix and nothing is copied; another root (a shared mount) is `separate`, as a bucket is."""

    def __init__(self, root: Path, separate=False):
        self.root = Path(root)
        self.separate = separate

    def path(self, name: str) -> Path:
        """The file of key name, refusing one that leads (by a link) out of its top folder."""
        root = self.root.absolute()  # Flask would read a relative path from its package's folder
        path = root / key(name)
        if not path.resolve().is_relative_to((root / name.split("/", 1)[0]).resolve()):
            raise BadKey(name[:200])
        return path

    def url(self, name: str) -> str:
        return str(self.path(name).resolve())

    def put(self, name: str, source: Path) -> None:
        target = self.path(name)
        if source.resolve() != target.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)

    def fetch(self, name: str, target: Path) -> bool:
        source = self.path(name)
        if not source.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return True

    def exists(self, name: str) -> bool:
        try:
            return self.path(name).is_file()
        except OSError:  # a name too long for the file system names no file
            return False

    def size(self, name: str) -> int:
        return self.path(name).stat().st_size

    def list(self, prefix: str) -> list[str]:
        folder = self.path(prefix)
        return sorted(file.relative_to(self.root).as_posix() for file in folder.rglob("*") if file.is_file())

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix), ignore_errors=True)

    def prefixes(self) -> set[str]:
        """The top-level names (job ids and MEDIA)."""
        return {entry.name for entry in self.root.iterdir() if entry.is_dir()} if self.root.is_dir() else set()

    def presigned_url(self, name: str, **response) -> None:
        """Files have no URL of their own: the app serves them."""
        return None


class S3Store:
    """Keys as objects under s3://bucket/prefix, through boto3."""

    separate = True  # workers render elsewhere, then upload

    def __init__(self, bucket: str, prefix: str = ""):
        import boto3  # only a bucket needs it: a hobby install never loads it

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = boto3.client("s3")

    def object_key(self, name: str) -> str:
        return f"{self.prefix}/{key(name)}" if self.prefix else key(name)

    def url(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(name)}"

    def put(self, name: str, source: Path) -> None:
        self.client.upload_file(str(source), self.bucket, self.object_key(name))

    def fetch(self, name: str, target: Path) -> bool:
        if not self.exists(name):
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        with answering():
            self.client.download_file(self.bucket, self.object_key(name), str(partial))
        partial.replace(target)
        return True

    def head(self, name: str) -> dict | None:
        """The object's metadata (ContentLength, ETag, LastModified), or None when there is none."""
        from botocore.exceptions import ClientError

        with answering():
            try:
                return self.client.head_object(Bucket=self.bucket, Key=self.object_key(name))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise

    def exists(self, name: str) -> bool:
        return self.head(name) is not None

    def size(self, name: str) -> int:
        found = self.head(name)
        if found is None:
            raise FileNotFoundError(name)
        return found["ContentLength"]

    def _objects(self, prefix: str, delimiter=None):
        base = self.object_key(prefix) + "/"
        extra = {"Delimiter": delimiter} if delimiter else {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base, **extra):
            yield page

    def list(self, prefix: str) -> list[str]:
        cut = len(self.prefix) + 1 if self.prefix else 0
        with answering():
            return sorted(item["Key"][cut:] for page in self._objects(prefix) for item in page.get("Contents", []))

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(name))

    def delete_prefix(self, prefix: str) -> None:
        for page in self._objects(prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})

    def prefixes(self) -> set[str]:
        base = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base, Delimiter="/")
        return {common["Prefix"][len(base):].rstrip("/") for page in pages for common in page.get("CommonPrefixes", [])}

    def presigned_url(self, name: str, **response) -> str:
        """A GET URL valid for PRESIGN_SECONDS; response overrides headers (ResponseContentType...)."""
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.object_key(name), **response},
            ExpiresIn=PRESIGN_SECONDS)

    def reader(self, name: str, size: int) -> "ObjectReader":
        return ObjectReader(self, self.object_key(name), size)


@contextlib.contextmanager
def answering():
    """Turn the bucket's failures (unreachable, refused) into StorageUnavailable, a clear 503."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        log.warning("the bucket failed: %s", exc)
        raise StorageUnavailable("The file storage did not answer; try again later.") from None


class ObjectReader(io.RawIOBase):
    """A seekable read-only file over one object: each read after a seek opens a ranged GET.

    Werkzeug serves Range requests from a seekable file; `stop` (the end of the requested
    range, when known) bounds the GET so the store sends no more than is asked for.
    """

    def __init__(self, store: S3Store, object_key: str, size: int, stop: int | None = None):
        self.store, self.object_key, self.length = store, object_key, size
        self.stop = stop
        self.position = 0
        self.body = None

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.position

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        position = max(0, base + offset)
        if position != self.position:
            self._drop()
        self.position = position
        return position

    def readinto(self, buffer):
        if self.position >= self.length:
            return 0
        if self.body is None:
            end = self.stop - 1 if self.stop and self.stop > self.position else self.length - 1
            answer = self.store.client.get_object(Bucket=self.store.bucket, Key=self.object_key,
                                                  Range=f"bytes={self.position}-{end}")
            self.body = answer["Body"]
        data = self.body.read(len(buffer))
        if not data:
            self._drop()
            if self.stop is None:
                return 0  # the object ended early: it changed while read
            self.stop = None  # read past the hinted range: the next read asks for the rest
            return self.readinto(buffer)
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)

    def _drop(self):
        if self.body is not None:
            self.body.close()
            self.body = None

    def close(self):
        self._drop()
        super().close()


def upload(store, prefix: str, folder: Path, kept: dict | None = None) -> dict:
    """Put the files under folder into the store under prefix, but those unchanged since kept
    (what an earlier call returned); return what is kept now: name -> (size, mtime)."""
    kept = dict(kept or {})
    for file in sorted(folder.rglob("*")):
        if not file.is_file():
            continue
        name = file.relative_to(folder).as_posix()
        stat = file.stat()
        if kept.get(name) != (stat.st_size, stat.st_mtime_ns):
            store.put(key(prefix, name), file)
            kept[name] = (stat.st_size, stat.st_mtime_ns)
    return kept


def download(store, prefix: str, folder: Path) -> None:
    """Fetch every object under prefix into folder (a job's files, for a worker that did not render them)."""
    for name in store.list(prefix):
        store.fetch(name, folder / name[len(prefix) + 1:])


def sweep_orphans(store, unknown) -> list[str]:
    """Delete a separate store's job prefixes that unknown(ids) says no job has (a delete cut short)."""
    if not store.separate:
        return []  # the jobs folder: jobs.sweep_orphans sweeps it
    try:
        with answering():
            # Only names shaped like job ids: a bucket's other contents are not the app's to delete.
            orphans = sorted(unknown({name for name in store.prefixes() if JOB_ID.fullmatch(name)}))
            for name in orphans:
                store.delete_prefix(name)
    except StorageUnavailable:
        return []  # the next start sweeps them; the bucket's absence must not stop the workers
    return orphans


def parse(url: str, jobs_dir: Path):
    """The store a STORAGE_URL names (None: the jobs folder)."""
    if not url:
        return FileStore(Path(jobs_dir))
    parts = urlsplit(url)
    if parts.scheme == "file":
        root = Path(parts.netloc + parts.path)
        return FileStore(root, separate=root.resolve() != Path(jobs_dir).resolve())
    return S3Store(parts.netloc, parts.path)


def of(settings):
    """The store of these settings; one per URL and folder, shared by every thread."""
    identity = (settings.storage_url, str(Path(settings.jobs_dir).resolve()))
    with _lock:
        if identity not in _stores:
            _stores[identity] = parse(settings.storage_url, settings.jobs_dir)
        return _stores[identity]
