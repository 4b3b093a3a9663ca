"""The Amazon S3 backend (fs-s3): AWS and any S3-compatible server, through boto3.

- Uploads of streams go through boto3's transfer manager (parts sent in parallel, bounded memory,
  failed multipart uploads aborted); small contents are one ``PutObject``.
- ``overwrite=False`` is enforced by the server: ``If-None-Match: *`` on ``PutObject``,
  ``CompleteMultipartUpload`` and ``CopyObject`` (an event hook on a second client adds it, since
  the transfer manager does not pass it through). Within a process, create-only writes of one key
  also run one at a time (:func:`~flask_fs.transfers.claim_name`): not every S3-compatible
  server commits a conditional multipart upload atomically.
- A SHA-256 of the content is computed while it is sent and stored with the object (user
  metadata for single requests, an object tag for streamed uploads): an S3 ETag is not a
  checksum of the content once an upload has parts.
- Reads stream the body; a read stream can seek (a ranged GET), which is how ``serve`` answers
  Range requests without downloading what comes before.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import IO, Any, ClassVar, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import redirect
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from flask_fs.backends import BaseBackend, Metadata
from flask_fs.errors import BackendError, ConfigurationError, FileExists, FileNotFound
from flask_fs.names import MAX_PREFIX_BYTES
from flask_fs.serving import guess_mime, is_active, send_stream
from flask_fs.settings import STORAGE_NAME, Setting
from flask_fs.streams import sha256_hex
from flask_fs.transfers import (
    HashingReader,
    PipeUpload,
    RangedReader,
    claim_name,
    read_ahead,
)

__version__ = "1.0.0"

MiB = 1024 * 1024
#: The largest object ``CopyObject`` copies in one request.
MAX_SINGLE_COPY = 5 * 1024**3
CHECKSUM_KEY = "sha256"
#: Metadata of a create-only PUT: a token of that write, to recognise it after a lost reply.
WRITE_KEY = "write-id"
#: Tag of a checksum computed after the fact: the ETag of the version it belongs to.
CHECKSUM_ETAG_KEY = "sha256-etag"

_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
# ConditionalRequestConflict: AWS refusing a create that races another one on the same key.
_PRECONDITION_CODES = {"412", "PreconditionFailed", "ConditionalRequestConflict"}


class S3Backend(BaseBackend):
    """An Amazon S3 backend (compatible with any S3-like API).

    Expect the following settings:

    - ``endpoint``: The S3 API endpoint (default: AWS)
    - ``region``: The region to work on
    - ``access_key``: The AWS credential access key
    - ``secret_key``: The AWS credential secret key

    and optionally ``bucket`` (default: the storage name), ``prefix`` (a key prefix, so storages
    can share a bucket), ``create_bucket``, ``addressing_style``, ``session_token``,
    ``client_config`` (botocore ``Config`` options: retries, timeouts...), ``client_options``
    (``boto3.client`` options: ``verify``, ``use_ssl``...), ``object_parameters`` (sent with
    every upload: ``ACL``, ``CacheControl``, ``ContentDisposition``...), ``multipart_threshold``,
    ``multipart_chunksize``, ``max_concurrency``, ``signed_urls``, ``signed_url_expiry``,
    ``serve_redirect`` and ``conditional_copy`` (server-side copies that must not overwrite, for
    servers that honour ``If-None-Match`` on ``CopyObject``, such as AWS).
    """

    settings: ClassVar[dict[str, Setting]] = {
        "endpoint": Setting(str),
        "region": Setting(str),
        "access_key": Setting(str),
        "secret_key": Setting(str),
        "session_token": Setting(str),
        "bucket": Setting(str, STORAGE_NAME),
        "prefix": Setting(str, ""),
        "create_bucket": Setting(bool, False),
        "addressing_style": Setting(str, "auto"),
        "client_config": Setting(dict, {}),
        "client_options": Setting(dict, {}),
        "object_parameters": Setting(dict, {}),
        "multipart_threshold": Setting(int, 8 * MiB),
        "multipart_chunksize": Setting(int, 8 * MiB),
        "max_concurrency": Setting(int, 4),
        "signed_urls": Setting(bool, False),
        "signed_url_expiry": Setting(int, 3600),
        "serve_redirect": Setting(bool, False),
        "conditional_copy": Setting(bool, False),
    }

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        super().__init__(name, config)
        config = self.config  # every setting present, of its declared type
        self.bucket: str = config["bucket"]
        prefix = (config["prefix"] or "").strip("/")
        self.key_prefix = f"{prefix}/" if prefix else ""
        if len(self.key_prefix.encode("utf-8")) > MAX_PREFIX_BYTES:
            raise ConfigurationError(
                f"storage {name!r}: PREFIX may be at most {MAX_PREFIX_BYTES} bytes, so that "
                "every valid name fits in an S3 key"
            )
        self.endpoint: str = config["endpoint"] or "AWS S3"
        self.object_parameters: dict[str, Any] = config["object_parameters"]
        concurrency: int = config["max_concurrency"]
        if concurrency < 1:
            raise ConfigurationError(f"storage {name!r}: MAX_CONCURRENCY must be at least 1")
        self.threshold: int = config["multipart_threshold"]
        self.transfer_config = TransferConfig(
            multipart_threshold=self.threshold,
            multipart_chunksize=config["multipart_chunksize"],
            max_concurrency=concurrency,
            max_io_queue=concurrency * 2,
            io_chunksize=256 * 1024,
            preferred_transfer_client="classic",
        )
        # s3transfer's memory bounds, which boto3's constructor does not take: parts of a
        # non-seekable stream held in memory at once (the default, 10, is 80 MiB per upload).
        self.transfer_config.max_in_memory_upload_chunks = concurrency
        self.transfer_config.max_in_memory_download_chunks = concurrency
        session = boto3.session.Session(
            aws_access_key_id=config["access_key"],
            aws_secret_access_key=config["secret_key"],
            aws_session_token=config["session_token"],
            region_name=config["region"],
        )
        client_config = Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 4, "mode": "standard"},
            max_pool_connections=max(10, concurrency * 2 + 2),
            s3={"addressing_style": config["addressing_style"] or "auto"},
        ).merge(Config(**config["client_config"]))
        options = {"endpoint_url": config["endpoint"], "config": client_config}
        options.update(config["client_options"])
        self.client = session.client("s3", **options)
        # The same client, but every create refuses an existing key (If-None-Match: *), so that
        # the transfer manager's PutObject/CompleteMultipartUpload calls are conditional too.
        self.create_only_client = session.client("s3", **options)
        for operation in ("PutObject", "CompleteMultipartUpload", "CopyObject"):
            self.create_only_client.meta.events.register(
                f"before-parameter-build.s3.{operation}", _if_none_match
            )
        self._bucket_ready = not config["create_bucket"]
        self._bucket_lock = threading.Lock()

    # -- helpers -------------------------------------------------------------------------------

    def _key(self, filename: str) -> str:
        return self.key_prefix + filename

    def _client(self, overwrite: bool) -> Any:
        self._ensure_bucket()
        return self.client if overwrite else self.create_only_client

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with self._bucket_lock, self._errors():
            if self._bucket_ready:
                return
            params: dict[str, Any] = {"Bucket": self.bucket}
            region = self.client.meta.region_name
            if region and region != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": region}
            try:
                self.client.create_bucket(**params)
            except ClientError as exc:
                if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
            self._bucket_ready = True

    @contextlib.contextmanager
    def _errors(self, filename: str | None = None) -> Iterator[None]:
        """Turn boto3's errors into flask-fs errors naming the storage, endpoint and cause."""
        where = f"storage {self.name!r} (bucket {self.bucket!r} at {self.endpoint})"
        try:
            yield
        except ClientError as exc:
            code = _code(exc)
            if code in _MISSING_CODES and filename is not None:
                raise FileNotFound.of(filename, self.name) from None
            if code in _PRECONDITION_CODES and filename is not None:
                if not self.exists(filename):
                    # SeaweedFS refuses a create-only write where an (empty) folder of that
                    # name remains from deleted "name/..." objects: no object is there.
                    raise BackendError(
                        f"{where}: the server refused to create {filename!r} although no object "
                        "has that name (a folder of that name may remain on the server)"
                    ) from exc
                raise FileExists.of(filename, self.name) from None
            if code == "NoSuchBucket":
                raise BackendError(f"{where}: the bucket does not exist") from exc
            message = exc.response.get("Error", {}).get("Message", "")
            raise BackendError(f"{where}: {code} {message}".rstrip()) from exc
        except BotoCoreError as exc:
            raise BackendError(f"{where}: {exc}") from exc

    def _head(self, filename: str) -> dict[str, Any]:
        self._ensure_bucket()
        with self._errors(filename):
            return cast(
                "dict[str, Any]",
                self.client.head_object(Bucket=self.bucket, Key=self._key(filename)),
            )

    def _claim(self, filename: str, overwrite: bool) -> contextlib.AbstractContextManager[None]:
        """Create-only writes of one key, one at a time in this process (see module doc)."""
        key = ("s3", self.endpoint, self.bucket, self._key(filename))
        return claim_name(key, filename, self.name, overwrite)

    def _upload_args(self, filename: str) -> dict[str, Any]:
        args = {"ContentType": guess_mime(filename)}
        args.update(self.object_parameters)
        return args

    # -- required operations -------------------------------------------------------------------

    def exists(self, filename: str) -> bool:
        try:
            self._head(filename)
        except FileNotFound:
            return False
        return True

    def open_read(self, filename: str) -> IO[bytes]:
        reader = _ObjectReader(self, filename)
        reader.open_body(0)  # FileNotFound now, not at the first read
        return cast("IO[bytes]", reader)

    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        if not overwrite and self.exists(filename):  # early answer; the server enforces it
            raise FileExists.of(filename, self.name)
        upload = PipeUpload(
            lambda reader: self._upload(reader, filename, overwrite),
            lambda digest: self._store_checksum(filename, digest),
            name=filename,
        )
        return cast("IO[bytes]", upload.writer())

    def write_bytes(self, filename: str, data: bytes, overwrite: bool = True) -> None:
        if len(data) >= self.threshold:
            self.save(io.BytesIO(data), filename, overwrite=overwrite)
            return
        args = self._upload_args(filename)
        metadata = {**args.get("Metadata", {}), CHECKSUM_KEY: hashlib.sha256(data).hexdigest()}
        if not overwrite:
            metadata[WRITE_KEY] = uuid.uuid4().hex
        args["Metadata"] = metadata
        client = self._client(overwrite)
        with self._claim(filename, overwrite):
            try:
                with self._errors(filename):
                    client.put_object(
                        Bucket=self.bucket, Key=self._key(filename), Body=data, **args
                    )
            except FileExists:
                if not self._written_by(filename, metadata.get(WRITE_KEY)):
                    raise

    def _written_by(self, filename: str, token: str | None) -> bool:
        """Whether the object holds the create-only write ``token``: the reply to its PUT was
        lost and the client's retry met its own object (a 412 that is a success)."""
        if token is None:
            return False
        try:
            return bool(self._head(filename).get("Metadata", {}).get(WRITE_KEY) == token)
        except FileNotFound:
            return False

    def save(
        self, file_or_wfs: IO[bytes] | FileStorage, filename: str, overwrite: bool = False
    ) -> str:
        stream = file_or_wfs.stream if isinstance(file_or_wfs, FileStorage) else file_or_wfs
        content, rest = read_ahead(stream, self.threshold - 1)
        if rest is None:  # one PutObject, checksum in its metadata
            self.write_bytes(filename, content, overwrite=overwrite)
            return filename
        hashing = HashingReader(rest)
        self._upload(cast("IO[bytes]", hashing), filename, overwrite)
        self._store_checksum(filename, hashing.hexdigest())
        return filename

    def _upload(self, stream: IO[bytes], filename: str, overwrite: bool) -> None:
        client = self._client(overwrite)
        with self._claim(filename, overwrite), self._errors(filename):
            client.upload_fileobj(
                stream,
                self.bucket,
                self._key(filename),
                ExtraArgs=self._upload_args(filename),
                Config=self.transfer_config,
            )

    def _store_checksum(self, filename: str, digest: str | None) -> None:
        """Tag the object with its SHA-256; servers without tagging get it computed on demand."""
        if digest is None:
            return
        tagging = {"TagSet": [{"Key": CHECKSUM_KEY, "Value": digest}]}
        with contextlib.suppress(ClientError):
            self.client.put_object_tagging(
                Bucket=self.bucket, Key=self._key(filename), Tagging=tagging
            )

    def delete(self, filename: str) -> None:
        self._head(filename)  # FileNotFound for a missing key: S3 itself says nothing
        with self._errors(filename):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(filename))

    def list_files(self, prefix: str = "") -> Iterator[str]:
        self._ensure_bucket()
        start = len(self.key_prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        with self._errors():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
                for item in page.get("Contents", ()):
                    key = item["Key"]
                    if not key.endswith("/"):  # folder markers made by other tools
                        yield key[start:]

    def metadata(self, filename: str) -> Metadata:
        head = self._head(filename)
        return Metadata(
            checksum=f"{CHECKSUM_KEY}:{self._checksum(filename, head)}",
            size=head["ContentLength"],
            mime=head.get("ContentType") or guess_mime(filename),
            modified=head["LastModified"],
        )

    def _checksum(self, filename: str, head: Mapping[str, Any]) -> str:
        """The SHA-256 stored at write time (metadata of a single PUT, or a tag after a streamed
        upload); for an object written by another tool, computed once from the version ``head``
        describes and tagged with that version's ETag, which must still match to be trusted."""
        stored = head.get("Metadata", {}).get(CHECKSUM_KEY)
        if stored:
            return str(stored)
        etag = head.get("ETag")
        version = (etag or "").strip('"')  # tag values cannot hold quotes
        tags: dict[str, str] = {}
        with contextlib.suppress(ClientError):
            answer = self.client.get_object_tagging(Bucket=self.bucket, Key=self._key(filename))
            tags = {tag["Key"]: tag["Value"] for tag in answer.get("TagSet", ())}
        if CHECKSUM_KEY in tags and tags.get(CHECKSUM_ETAG_KEY, version) == version:
            return tags[CHECKSUM_KEY]
        reader = _ObjectReader(self, filename, head["ContentLength"], etag)
        with reader:
            checksum = sha256_hex(cast("IO[bytes]", reader))
        tags.update({CHECKSUM_KEY: checksum, CHECKSUM_ETAG_KEY: version})
        tag_set = {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        with contextlib.suppress(ClientError):  # read-only credentials still get the checksum
            self.client.put_object_tagging(
                Bucket=self.bucket, Key=self._key(filename), Tagging=tag_set
            )
        return checksum

    def sweep(self, older_than: float, remove: bool = True) -> Iterator[str]:
        """Abort the multipart uploads under this storage's prefix started before the cutoff:
        their parts are stored, and billed, until then."""
        self._ensure_bucket()
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
        paginator = self.client.get_paginator("list_multipart_uploads")
        with self._errors():
            stale = [
                upload
                for page in paginator.paginate(Bucket=self.bucket, Prefix=self.key_prefix)
                for upload in page.get("Uploads", ())
                if upload["Initiated"] <= cutoff
            ]
            for upload in stale:
                if remove:
                    with contextlib.suppress(ClientError):  # finished or aborted meanwhile
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                name = upload["Key"][len(self.key_prefix) :]
                yield f"incomplete multipart upload of {name!r} started {upload['Initiated']}"

    # -- faster than the defaults --------------------------------------------------------------

    def copy(self, filename: str, target: str, overwrite: bool = False) -> None:
        if not overwrite and not self.config["conditional_copy"]:
            # Servers disagree on If-None-Match for CopyObject (moto ignores it, Swift's s3api
            # refuses every such copy), so a create-only copy streams through a conditional
            # upload, which they honour. AWS users can set CONDITIONAL_COPY for server-side ones.
            if self.exists(target):
                raise FileExists.of(target, self.name)
            super().copy(filename, target, overwrite=False)
            return
        head = self._head(filename)
        source = {"Bucket": self.bucket, "Key": self._key(filename)}
        client = self._client(overwrite)
        with self._claim(target, overwrite), self._errors(target):
            if head["ContentLength"] <= MAX_SINGLE_COPY:  # server-side, metadata and tags kept
                client.copy_object(Bucket=self.bucket, Key=self._key(target), CopySource=source)
                return
            args = self._upload_args(target)
            args["Metadata"] = head.get("Metadata", {})
            client.copy(
                source, self.bucket, self._key(target), ExtraArgs=args, Config=self.transfer_config
            )
        self._store_checksum(target, self._checksum(filename, head))

    def serve(self, filename: str) -> Response:
        if self.config["serve_redirect"]:
            self._head(filename)
            return redirect(self._presign(filename))
        head = self._head(filename)
        etag = head.get("ETag")
        reader = _ObjectReader(self, filename, size=head["ContentLength"], etag=etag)
        return send_stream(  # the body is the version of the HEAD, or the stream fails
            cast("IO[bytes]", reader),
            name=filename,
            size=head["ContentLength"],
            mime=head.get("ContentType") or guess_mime(filename),
            etag=(etag or "").strip('"') or None,
            modified=head.get("LastModified"),
        )

    @property
    def has_signed_urls(self) -> bool:
        return bool(self.config["signed_urls"])

    def signed_url(self, filename: str) -> str | None:
        return self._presign(filename) if self.config["signed_urls"] else None

    def _presign(self, filename: str) -> str:
        with self._errors(filename):
            return cast(
                str,
                self.client.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": self.bucket, "Key": self._key(filename), **_answer(filename)},
                    ExpiresIn=self.config["signed_url_expiry"],
                ),
            )


def _answer(filename: str) -> dict[str, str]:
    """How S3 answers a signed URL: active content (HTML, SVG...) as an attachment, never inline.

    (``ResponseContentType`` would pin the type too, but SeaweedFS refuses such signatures.)
    """
    if is_active(guess_mime(filename)):
        return {"ResponseContentDisposition": "attachment"}
    return {}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _if_none_match(params: dict[str, Any], **_: Any) -> None:
    params.setdefault("IfNoneMatch", "*")


class _ObjectReader(RangedReader):
    """An object's body; seeking re-opens it with a ranged GET."""

    def __init__(
        self, backend: S3Backend, filename: str, size: int | None = None, etag: str | None = None
    ) -> None:
        super().__init__(size, etag)
        self.backend = backend
        self.filename = filename

    def open_body(self, start: int) -> None:
        params = {"Bucket": self.backend.bucket, "Key": self.backend._key(self.filename)}
        if start:
            params["Range"] = f"bytes={start}-"
        if self.etag:
            params["IfMatch"] = self.etag
        with self.backend._errors(self.filename):
            try:
                response = self.backend.client.get_object(**params)
            except ClientError as exc:
                if self.etag and _code(exc) in _PRECONDITION_CODES:
                    raise self.replaced(self.filename, self.backend.name) from exc
                raise
        if self.size is None:
            self.size = start + int(response["ContentLength"])
        self.etag = self.etag or response.get("ETag")
        self.body = response["Body"]

    def read_body(self, size: int | None) -> bytes:
        with self.backend._errors(self.filename):
            return super().read_body(size)
