"""The Amazon S3 backend (fs-s3): AWS and any S3-compatible server, through boto3.

An adapter of :class:`~flask_fs.backends.objectstore.ObjectStoreBackend`, which holds the rules
(create-only writes, checksums, ranged reads, serving, errors); here are S3's requests:

- Streams go through boto3's transfer manager (parts sent in parallel, bounded memory, failed
  multipart uploads aborted); small contents are one ``PutObject``.
- Create-only writes send ``If-None-Match: *`` on ``PutObject``, ``CompleteMultipartUpload`` and
  ``CopyObject``: an event hook on a second client adds it, since the transfer manager does not
  pass it through. Not every S3-compatible server commits a conditional multipart upload
  atomically, hence the pipeline's in-process claim.
- The SHA-256 is user metadata of a single ``PutObject`` and an object tag after a streamed
  upload (an S3 ETag is not a checksum once an upload has parts); checksums computed for other
  tools' objects are tags too. ``sweep`` aborts stale multipart uploads.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Hashable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import quote, urlencode

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.signers import CloudFrontSigner

if TYPE_CHECKING:
    from .s3_uploads import S3Uploads

from flask_fs.backends import objectstore
from flask_fs.errors import ConfigurationError, OperationNotSupported
from flask_fs.names import MAX_PREFIX_BYTES
from flask_fs.serving import Conditions, guess_mime
from flask_fs.settings import STORAGE_NAME, Setting

__version__ = version("fs-s3")

MiB = 1024 * 1024
#: The ``ID`` of the bucket's CORS rule that ``flask fs cors`` sets.
CORS_RULE_ID = "flask-fs"
#: The largest object ``CopyObject`` copies in one request.
MAX_SINGLE_COPY = 5 * 1024**3

_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
# ConditionalRequestConflict: AWS refusing a create that races another one on the same key.
_PRECONDITION_CODES = {"412", "PreconditionFailed", "ConditionalRequestConflict"}


class S3Backend(objectstore.ObjectStoreBackend):
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
    ``serve_redirect``, ``conditional_copy`` (server-side copies that must not overwrite, for
    servers that honour ``If-None-Match`` on ``CopyObject``, such as AWS and SeaweedFS),
    ``post_uploads`` (direct uploads in one body are presigned ``POST`` forms, whose size the
    store bounds; ``False`` for servers without them, such as Swift's s3api: presigned ``PUT``),
    and ``cloudfront_key_id`` with ``cloudfront_private_key`` (PEM text or the path of a PEM file:
    signed URLs are then CloudFront's, on ``cloudfront_domain`` or else the storage's ``URL``).
    """

    settings: ClassVar[Mapping[str, Any]] = {
        **objectstore.ObjectStoreBackend.settings,  # serve_redirect
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
        "signed_url_expiry": Setting(int, 3600, alias_of="url_expires"),  # deprecated
        "conditional_copy": Setting(bool, False),
        "post_uploads": Setting(bool, True),
        "cloudfront_key_id": Setting(str),
        "cloudfront_private_key": Setting(str),
        "cloudfront_domain": Setting(str),
    }
    client_errors = (ClientError, BotoCoreError)

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        storage_url = config.get("url")
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
            max_pool_connections=max(64, concurrency * 2 + 2),
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
        # Presigned URLs are SigV4 whatever CLIENT_CONFIG says: SeaweedFS refuses SigV2 ones
        # that carry a response-content-disposition. Made on the first URL (a client is slow).
        self._presign_client_args = (
            session,
            {**options, "config": client_config.merge(Config(signature_version="s3v4"))},
        )
        self._bucket_ready = not config["create_bucket"]
        self._bucket_lock = threading.Lock()
        self.cloudfront: CloudFront | None = None
        if config["cloudfront_key_id"] or config["cloudfront_private_key"]:
            self.cloudfront = CloudFront.from_settings(name, config, storage_url)

    # -- the adapter's own ------------------------------------------------------------------

    @functools.cached_property
    def presign_client(self) -> Any:
        """A client that signs with SigV4, for presigned URLs."""
        session, options = self._presign_client_args
        return session.client("s3", **options)

    def _key(self, filename: str) -> str:
        return self.key_prefix + filename

    def _client(self, create_only: bool) -> Any:
        self._ensure_bucket()
        return self.create_only_client if create_only else self.client

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with self._bucket_lock, self.errors():
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

    def _upload_args(self, filename: str, metadata: Mapping[str, str]) -> dict[str, Any]:
        args: dict[str, Any] = {"ContentType": guess_mime(filename), **self.object_parameters}
        if metadata:
            args["Metadata"] = {**args.get("Metadata", {}), **metadata}
        return args

    # -- primitives of the pipeline ------------------------------------------------------------

    @property
    def location(self) -> str:
        return f"bucket {self.bucket!r} at {self.endpoint}"

    @property
    def single_request_limit(self) -> int:
        return self.threshold - 1

    def claim_key(self, filename: str) -> Hashable:
        return ("s3", self.endpoint, self.bucket, self._key(filename))

    def error_kind(self, exc: BaseException) -> objectstore.ErrorKind | None:
        code = _code(exc) if isinstance(exc, ClientError) else ""
        if code in _MISSING_CODES:
            return "missing"
        return "precondition" if code in _PRECONDITION_CODES else None

    def describe_error(self, exc: BaseException) -> str:
        if not isinstance(exc, ClientError):
            return str(exc)
        if _code(exc) == "NoSuchBucket":
            return "the bucket does not exist"
        message = exc.response.get("Error", {}).get("Message", "")
        return f"{_code(exc)} {message}".rstrip()

    def head_object(self, filename: str) -> objectstore.ObjectInfo:
        self._ensure_bucket()
        head = self.client.head_object(Bucket=self.bucket, Key=self._key(filename))
        return _info(head, head["ContentLength"])

    def fetch_object(
        self, filename: str, byte_range: str | None, conditions: Conditions
    ) -> objectstore.ObjectAnswer:
        """One ``GetObject``; its 304, 412 and 416 arrive as client errors."""
        self._ensure_bucket()
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._key(filename),
            "Range": byte_range,
        }
        params.update(
            IfMatch=conditions.if_match,
            IfNoneMatch=conditions.if_none_match,
            IfModifiedSince=conditions.if_modified_since,
            IfUnmodifiedSince=conditions.if_unmodified_since,
        )
        try:
            answer = self.client.get_object(**{k: v for k, v in params.items() if v is not None})
        except ClientError as exc:
            metadata = exc.response.get("ResponseMetadata", {})
            status = metadata.get("HTTPStatusCode")
            if status not in (304, 412, 416):
                raise
            return objectstore.ObjectAnswer.refused(status, metadata.get("HTTPHeaders", {}))
        length = int(answer["ContentLength"])
        start, size = objectstore.body_extent(length, answer.get("ContentRange"))
        status = answer["ResponseMetadata"]["HTTPStatusCode"]
        return objectstore.ObjectAnswer(status, _info(answer, size), answer["Body"], start, length)

    def get_object(self, filename: str, start: int, etag: str | None) -> objectstore.ObjectBody:
        params = {"Bucket": self.bucket, "Key": self._key(filename)}
        if start:
            params["Range"] = f"bytes={start}-"
        if etag:
            params["IfMatch"] = etag
        response = self.client.get_object(**params)
        return objectstore.ObjectBody(
            response["Body"], int(response["ContentLength"]), response.get("ETag")
        )

    def put_object(
        self, filename: str, data: bytes, metadata: Mapping[str, str], create_only: bool
    ) -> None:
        self._client(create_only).put_object(
            Bucket=self.bucket,
            Key=self._key(filename),
            Body=data,
            **self._upload_args(filename, metadata),
        )

    def upload_stream(
        self, filename: str, stream: IO[bytes], metadata: Mapping[str, str], create_only: bool
    ) -> None:
        """boto3's transfer manager: parts sent in parallel, a failed upload aborted."""
        self._client(create_only).upload_fileobj(
            stream,
            self.bucket,
            self._key(filename),
            ExtraArgs=self._upload_args(filename, metadata),
            Config=self.transfer_config,
        )

    def annotations(self, filename: str, info: objectstore.ObjectInfo) -> Mapping[str, str]:
        """The object's tags (its metadata cannot change without rewriting it)."""
        answer = self.client.get_object_tagging(Bucket=self.bucket, Key=self._key(filename))
        return {tag["Key"]: tag["Value"] for tag in answer.get("TagSet", ())}

    def annotate(
        self, filename: str, values: Mapping[str, str], current: Mapping[str, str] | None
    ) -> None:
        tags = {**(current or {}), **values}  # tag values cannot hold quotes: ETags go bare
        self.client.put_object_tagging(
            Bucket=self.bucket,
            Key=self._key(filename),
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
        )

    def delete_object(self, filename: str, info: objectstore.ObjectInfo) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(filename))

    def list_objects(self, prefix: str) -> Iterator[tuple[str, objectstore.ObjectInfo]]:
        """ListObjectsV2, a page (1,000 keys) per request: each key's ``Size``,
        ``LastModified`` and ``ETag`` (the listing has no content type)."""
        self._ensure_bucket()
        start = len(self.key_prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            for item in page.get("Contents", ()):
                key = item["Key"]
                if not key.endswith("/"):  # folder markers made by other tools
                    yield (
                        key[start:],
                        objectstore.ObjectInfo(
                            size=int(item["Size"]),
                            etag=item.get("ETag"),
                            modified=item.get("LastModified"),
                        ),
                    )

    @property
    def create_only_copy(self) -> bool:
        # Servers disagree on If-None-Match for CopyObject (SeaweedFS honours it, moto ignores
        # it, Swift's s3api refuses every such copy), so a create-only copy streams through a
        # conditional upload, which they honour. AWS and SeaweedFS users can set
        # CONDITIONAL_COPY for server-side ones.
        return bool(self.config["conditional_copy"])

    def copy_object(
        self, filename: str, target: str, info: objectstore.ObjectInfo, create_only: bool
    ) -> bool:
        source = {"Bucket": self.bucket, "Key": self._key(filename)}
        client = self._client(create_only)
        if info.size <= MAX_SINGLE_COPY:  # one request, metadata and tags kept
            client.copy_object(Bucket=self.bucket, Key=self._key(target), CopySource=source)
            return True
        args = self._upload_args(target, {})
        args["Metadata"] = dict(info.metadata)
        client.copy(
            source, self.bucket, self._key(target), ExtraArgs=args, Config=self.transfer_config
        )
        self.attach_checksum(target, self.checksum(filename, info))
        return True

    def find_leftovers(self, cutoff: datetime) -> Iterator[objectstore.Leftover]:
        """The multipart uploads under this storage's prefix started before the cutoff: their
        parts are stored, and billed, until they are aborted."""
        self._ensure_bucket()
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.key_prefix):
            for upload in page.get("Uploads", ()):
                if upload["Initiated"] <= cutoff:
                    name = upload["Key"][len(self.key_prefix) :]
                    description = (
                        f"incomplete multipart upload of {name!r} started {upload['Initiated']}"
                    )
                    yield objectstore.Leftover(description, upload)

    def remove_leftover(self, leftover: objectstore.Leftover) -> None:
        upload = leftover.handle
        with contextlib.suppress(ClientError):  # finished or aborted meanwhile
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )

    def direct_uploads(self) -> S3Uploads:
        """Presigned ``POST`` (or ``PUT``) bodies and multipart uploads: see
        :mod:`flask_fs.backends.s3_uploads`."""
        from .s3_uploads import S3Uploads

        return S3Uploads(self)

    def set_cors(self, origins: list[str]) -> None:
        """The bucket's CORS rule for flask-fs (``ID`` ``flask-fs``; the bucket's other rules
        are kept): ``PUT``, ``POST`` and ``GET`` from ``origins``, any request header, the
        ``ETag`` exposed (multipart uploads read it)."""
        rule = {
            "ID": CORS_RULE_ID,
            "AllowedOrigins": list(origins),
            "AllowedMethods": ["PUT", "POST", "GET"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3600,
        }
        self._ensure_bucket()
        with self.errors():
            try:
                rules = self.client.get_bucket_cors(Bucket=self.bucket)["CORSRules"]
            except ClientError as exc:
                if _code(exc) not in ("NoSuchCORSConfiguration", "NotImplemented"):
                    raise
                rules = []
            kept = [other for other in rules if other.get("ID") != CORS_RULE_ID]
            try:
                self.client.put_bucket_cors(
                    Bucket=self.bucket, CORSConfiguration={"CORSRules": [*kept, rule]}
                )
            except ClientError as exc:
                if _code(exc) != "NotImplemented":
                    raise
                raise OperationNotSupported(
                    f"storage {self.name!r} ({self.location}): the server does not implement "
                    "bucket CORS (PutBucketCors); set it with the server's own tools"
                ) from None

    @property
    def has_signed_urls(self) -> bool:
        return bool(self.config.get("signed_urls"))  # the core SIGNED_URLS

    def presign(self, filename: str, expires: timedelta | None, disposition: str | None) -> str:
        """A presigned GET, always SigV4, which signs the query too: the disposition
        (``ResponseContentDisposition``) cannot be altered, nor the key.

        (``ResponseContentType`` would pin the type too, but SeaweedFS refuses such signatures.)
        """
        seconds = self.config["signed_url_expiry"] if expires is None else expires.total_seconds()
        if self.cloudfront:
            return self.cloudfront.sign(filename, int(seconds), disposition)
        params = {"Bucket": self.bucket, "Key": self._key(filename)}
        if disposition:
            params["ResponseContentDisposition"] = disposition
        return cast(
            str,
            self.presign_client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=int(seconds)
            ),
        )


class CloudFront:
    """CloudFront signed URLs (a canned policy: one URL, until it expires), by botocore's
    ``CloudFrontSigner`` with RSA-SHA1 from ``cryptography`` (``pip install fs-s3[cloudfront]``).

    A URL is the distribution's ``base`` URL, the file's name and, for a disposition, the
    ``response-content-disposition`` query, which the signature covers: the distribution must
    forward that query string to S3 for the name to apply.
    """

    def __init__(self, base: str, key_id: str, private_key: bytes) -> None:
        try:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding, rsa
        except ImportError as exc:  # pragma: no cover - the extra is installed in the tests
            raise ConfigurationError(
                "CloudFront signed URLs need the cryptography package: "
                "pip install 'fs-s3[cloudfront]'"
            ) from exc
        key = serialization.load_pem_private_key(private_key, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("not an RSA key")

        def rsa_sign(message: bytes) -> bytes:
            # SHA-1 is what CloudFront verifies canned-policy signatures with.
            return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303

        self.base = base if base.endswith("/") else base + "/"
        self.signer = CloudFrontSigner(key_id, rsa_sign)

    @classmethod
    def from_settings(
        cls, name: str, config: Mapping[str, Any], storage_url: str | None
    ) -> CloudFront:
        """From the ``CLOUDFRONT_*`` settings; the domain defaults to the storage's ``URL``."""
        key_id, private_key = config["cloudfront_key_id"], config["cloudfront_private_key"]
        base = config["cloudfront_domain"] or storage_url
        if not (key_id and private_key and base):
            raise ConfigurationError(
                f"storage {name!r}: CloudFront signed URLs need CLOUDFRONT_KEY_ID, "
                "CLOUDFRONT_PRIVATE_KEY and CLOUDFRONT_DOMAIN (or URL)"
            )
        if "://" not in base:
            base = "https://" + base.lstrip("/")
        pem = private_key.strip().encode()
        if not pem.startswith(b"-----BEGIN"):
            try:
                with open(private_key, "rb") as file:
                    pem = file.read()
            except OSError as exc:
                raise ConfigurationError(
                    f"storage {name!r}: CLOUDFRONT_PRIVATE_KEY is neither a PEM key nor a "
                    f"readable file ({exc.strerror})"
                ) from exc
        try:
            return cls(base, key_id, pem)
        except (ValueError, TypeError) as exc:  # TypeError: a key that needs a password
            raise ConfigurationError(
                f"storage {name!r}: CLOUDFRONT_PRIVATE_KEY is not an unencrypted RSA private "
                "key in PEM"
            ) from exc

    def sign(self, filename: str, seconds: int, disposition: str | None) -> str:
        url = self.base + quote(filename)
        if disposition:
            url += "?" + urlencode({"response-content-disposition": disposition}, quote_via=quote)
        expires = datetime.now(timezone.utc) + timedelta(seconds=seconds)
        return cast(str, self.signer.generate_presigned_url(url, date_less_than=expires))


def _info(answer: Mapping[str, Any], size: int) -> objectstore.ObjectInfo:
    """What a ``HeadObject`` or ``GetObject`` answer says of the object."""
    return objectstore.ObjectInfo(
        size=size,
        etag=answer.get("ETag"),
        modified=answer.get("LastModified"),
        mime=answer.get("ContentType"),
        metadata=answer.get("Metadata", {}),
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _if_none_match(params: dict[str, Any], **_: Any) -> None:
    params.setdefault("IfNoneMatch", "*")
