"""Direct uploads to S3 (:class:`~flask_fs.backends.direct.StoreUploads`): browsers send the
bytes to the bucket, the application only signs and publishes.

- **One body**: a presigned ``POST`` (SigV4 policy) to the staging key, bounded by the store:
  ``content-length-range`` up to ``max_size``, the exact ``Content-Type`` when one is given, and
  ``success_action_redirect`` when a redirect is asked (else ``success_action_status`` 201, whose
  XML answer names the key and ETag). A ``POST`` cannot be create-only, so the body waits under
  its staging name and :meth:`S3Uploads.publish_staged` gives it its name: a create-only upload
  streamed through the application (the pipeline's create-only copy; ``If-None-Match: *`` on
  ``PutObject``/``CompleteMultipartUpload``, which every server tested honours), or with
  ``CONDITIONAL_COPY`` (AWS, SeaweedFS) one ``CopyObject`` with ``If-None-Match: *``. With
  ``POST_UPLOADS = False`` (servers without browser ``POST`` uploads, such as Swift's s3api) the
  form is a presigned ``PUT``: its type is signed, but only the application's check bounds its
  size.
- **In parts**: an S3 multipart upload on the file's own key, each ``UploadPart`` presigned;
  ``CompleteMultipartUpload`` carries ``If-None-Match: *`` unless overwriting.

The SHA-256 of a published file is recorded as for any file the pipeline writes: in its metadata
(a copy that replaces the metadata), or as a tag computed by reading the object once (see
:meth:`~flask_fs.backends.objectstore.ObjectStoreBackend.checksum`).
"""

from __future__ import annotations

import contextlib
import math
import re
import secrets
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from flask_fs.backends.direct import (
    STAGING_FOLDER,
    BodyCheck,
    CheckedReader,
    StoredPart,
    StoreUploads,
    UploadForm,
)
from flask_fs.backends.objectstore import CHECKSUM_KEY, ObjectInfo, ObjectReader
from flask_fs.errors import (
    FileExists,
    FileNotFound,
    FSError,
    OperationNotSupported,
    UploadNotAllowed,
)
from flask_fs.signing import as_timedelta
from flask_fs.transfers import claim_name

from .s3 import MAX_SINGLE_COPY

if TYPE_CHECKING:
    from typing import IO

    from .s3 import S3Backend

#: The largest body S3 takes in one ``POST`` or ``PUT``: more goes in parts.
MAX_SINGLE_UPLOAD = 5 * 1024**3
#: Between the staging token and S3's upload id in the id of an overwriting upload in parts.
STAGED_SEPARATOR = "~"
_TOKEN = re.compile("[0-9a-f]{32}")


class S3Uploads(StoreUploads):
    """Direct uploads to the bucket of an :class:`~flask_fs.backends.s3.S3Backend`."""

    def __init__(self, backend: S3Backend) -> None:
        self.backend = backend

    # -- one body ------------------------------------------------------------------------------

    def sign_upload(
        self,
        staging: str,
        *,
        max_size: int,
        content_type: str | None,
        expires: timedelta,
        redirect: str | None = None,
    ) -> UploadForm:
        backend = self.backend
        if not 0 <= max_size <= MAX_SINGLE_UPLOAD:
            raise OperationNotSupported(
                f"storage {backend.name!r}: one S3 upload holds 0 to {MAX_SINGLE_UPLOAD} bytes, "
                f"not {max_size}: upload larger files in parts"
            )
        seconds = _seconds(expires)
        key = backend._key(staging)
        backend._ensure_bucket()
        if not backend.config["post_uploads"]:
            params = {"Bucket": backend.bucket, "Key": key}
            headers = {}
            if content_type:
                params["ContentType"] = headers["Content-Type"] = content_type
            with backend.errors(staging):
                url = backend.presign_client.generate_presigned_url(
                    "put_object", Params=params, ExpiresIn=seconds
                )
            return UploadForm("PUT", cast(str, url), headers=headers)
        fields: dict[str, str] = {}
        conditions: list[Any] = [["content-length-range", 0, max_size]]
        if content_type:
            fields["Content-Type"] = content_type
        if redirect:
            fields["success_action_redirect"] = redirect
        else:
            fields["success_action_status"] = "201"
        conditions.extend({name: value} for name, value in fields.items())
        with backend.errors(staging):
            post = backend.presign_client.generate_presigned_post(
                backend.bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=seconds
            )
        return UploadForm("POST", post["url"], fields=dict(post["fields"]))

    def publish_staged(
        self, staging: str, filename: str, *, overwrite: bool, check: BodyCheck | None = None
    ) -> None:
        backend = self.backend
        check = check or BodyCheck()
        info = backend.head(staging)  # FileNotFound for an unknown staging name
        try:
            if overwrite or backend.create_only_copy:
                self._check_and_copy(staging, info, filename, overwrite, check)
            else:
                # The pipeline's create-only copy: a create-only upload of the staged body
                # (the servers tested disagree on a conditional CopyObject), read through the
                # check, whose refusal at the end of the body aborts the upload.
                backend.refuse_existing(filename)
                with ObjectReader(backend, staging, info.size, info.etag) as reader:
                    checked = CheckedReader(cast("IO[bytes]", reader), check)
                    backend.save(cast("IO[bytes]", checked), filename, overwrite=False)
        finally:
            with contextlib.suppress(FSError), backend.errors(staging):
                backend.delete_object(staging, info)  # else swept later

    def _check_and_copy(
        self,
        staging: str,
        info: ObjectInfo,
        filename: str,
        overwrite: bool,
        check: BodyCheck,
    ) -> None:
        """Read the staged version ``info`` through ``check``, then copy that version (and no
        other: ``CopySourceIfMatch``) to ``filename`` inside the store, with new metadata that
        carries its SHA-256; a conditional copy (``If-None-Match: *``) unless ``overwrite``.
        Beyond one ``CopyObject`` (5 GB), a multipart copy."""
        backend = self.backend
        with ObjectReader(backend, staging, info.size, info.etag) as reader:
            digest = check.read(cast("IO[bytes]", reader))
        args = backend._upload_args(filename, {CHECKSUM_KEY: digest})
        source = {"Bucket": backend.bucket, "Key": backend._key(staging)}
        claim = claim_name(backend.claim_key(filename), filename, backend.name, overwrite)
        with claim, backend.errors(filename):
            client = backend._client(not overwrite)
            if info.size <= MAX_SINGLE_COPY:
                client.copy_object(
                    Bucket=backend.bucket,
                    Key=backend._key(filename),
                    CopySource=source,
                    CopySourceIfMatch=info.etag,
                    MetadataDirective="REPLACE",
                    **args,
                )
            else:
                client.copy(
                    source,
                    backend.bucket,
                    backend._key(filename),
                    # REPLACE: else s3transfer gives the copy the staged body's metadata
                    ExtraArgs={
                        **args,
                        "CopySourceIfMatch": info.etag,
                        "MetadataDirective": "REPLACE",
                    },
                    Config=backend.transfer_config,
                )

    # -- in parts ------------------------------------------------------------------------------

    def start_parts(
        self, filename: str, *, content_type: str | None, overwrite: bool = False
    ) -> str:
        """A multipart upload on the file's own key (create-only: completed with
        ``If-None-Match: *``); to overwrite, on a staging key, which is checked before it is
        copied over the file (an upload id ``<staging token>~<S3 upload id>``)."""
        backend = self.backend
        args = backend._upload_args(filename, {})
        if content_type:
            args["ContentType"] = content_type
        token = secrets.token_hex(16) if overwrite else ""
        name = _staged_parts(token) if token else filename
        with backend.errors(filename):
            answer = backend._client(False).create_multipart_upload(
                Bucket=backend.bucket, Key=backend._key(name), **args
            )
        upload_id = cast(str, answer["UploadId"])
        return f"{token}{STAGED_SEPARATOR}{upload_id}" if token else upload_id

    def sign_part(
        self, filename: str, upload_id: str, number: int, *, expires: timedelta
    ) -> UploadForm:
        if not 1 <= number <= self.max_parts:
            raise FSError(f"a part number is 1 to {self.max_parts}, not {number}")
        backend = self.backend
        name, s3_id = _where(filename, upload_id)
        params = {
            "Bucket": backend.bucket,
            "Key": backend._key(name),
            "UploadId": s3_id,
            "PartNumber": number,
        }
        with backend.errors(filename):
            url = backend.presign_client.generate_presigned_url(
                "upload_part", Params=params, ExpiresIn=_seconds(expires)
            )
        return UploadForm("PUT", cast(str, url))

    def stored_parts(self, filename: str, upload_id: str) -> list[StoredPart]:
        backend = self.backend
        name, s3_id = _where(filename, upload_id)
        paginator = backend.client.get_paginator("list_parts")
        pages = paginator.paginate(Bucket=backend.bucket, Key=backend._key(name), UploadId=s3_id)
        with self._errors(filename, upload_id):
            return [
                StoredPart(int(part["PartNumber"]), int(part["Size"]), part["ETag"])
                for page in pages
                for part in page.get("Parts", ())
            ]

    def join_parts(
        self,
        filename: str,
        upload_id: str,
        parts: Sequence[StoredPart],
        *,
        overwrite: bool,
        check: BodyCheck | None = None,
    ) -> None:
        backend = self.backend
        check = check or BodyCheck()
        name, s3_id = _where(filename, upload_id)
        listed = [{"PartNumber": part.number, "ETag": part.etag} for part in parts]
        if name != filename:  # to overwrite: assembled aside, checked, then copied over
            with self._errors(filename, upload_id):
                backend.client.complete_multipart_upload(
                    Bucket=backend.bucket,
                    Key=backend._key(name),
                    UploadId=s3_id,
                    MultipartUpload={"Parts": listed},
                )
            self.publish_staged(name, filename, overwrite=True, check=check)
            return
        try:
            # In-process claim: the servers tested check If-None-Match before they commit.
            claim = claim_name(backend.claim_key(filename), filename, backend.name, overwrite)
            with claim, self._errors(filename, upload_id):
                backend._client(not overwrite).complete_multipart_upload(
                    Bucket=backend.bucket,
                    Key=backend._key(filename),
                    UploadId=s3_id,
                    MultipartUpload={"Parts": listed},
                )
        except FileExists:
            if self._open(filename, upload_id):  # refused: else it was ours, its reply lost
                self.abort_parts(filename, upload_id)
                raise
        # A new name (create-only) is published, then read once through the check: refused,
        # it is removed; its SHA-256 is remembered with the version it belongs to.
        info = backend.head(filename)
        try:
            backend.read_checksum(filename, info, check)
        except UploadNotAllowed:
            with contextlib.suppress(FileNotFound), backend.errors(filename):
                backend.delete_object(filename, info)
            raise

    def _open(self, filename: str, upload_id: str) -> bool:
        """Whether the upload is still in progress (not completed nor aborted)."""
        try:
            self.stored_parts(filename, upload_id)
        except FileNotFound:
            return False
        return True

    def abort_parts(self, filename: str, upload_id: str) -> None:
        backend = self.backend
        name, s3_id = _where(filename, upload_id)
        with contextlib.suppress(FileNotFound), self._errors(filename, upload_id):
            backend.client.abort_multipart_upload(
                Bucket=backend.bucket, Key=backend._key(name), UploadId=s3_id
            )

    @contextlib.contextmanager
    def _errors(self, filename: str, upload_id: str) -> Iterator[None]:
        """The backend's errors, an unknown (or closed) upload being ``FileNotFound``."""
        with self.backend.errors(filename):
            try:
                yield
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise
                raise FileNotFound(
                    f"storage {self.backend.name!r}: no upload {upload_id!r} of {filename!r} "
                    "in progress"
                ) from None


def _staged_parts(token: str) -> str:
    """The staging name the parts of an overwriting upload are assembled under."""
    return f"{STAGING_FOLDER}/{token}"


def _where(filename: str, upload_id: str) -> tuple[str, str]:
    """The name an upload's parts are assembled under, and its S3 upload id."""
    token, separator, s3_id = upload_id.partition(STAGED_SEPARATOR)
    if not (separator and _TOKEN.fullmatch(token)):  # an S3 upload id of the file's own key
        return filename, upload_id
    return _staged_parts(token), s3_id


def _seconds(expires: timedelta) -> int:
    """Whole seconds (rounded up) of a positive expiry."""
    return math.ceil(as_timedelta(expires).total_seconds())
