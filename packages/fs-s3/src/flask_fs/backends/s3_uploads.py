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
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from flask_fs.backends.direct import StoredPart, StoreUploads, UploadForm
from flask_fs.backends.objectstore import CHECKSUM_KEY, ObjectReader
from flask_fs.errors import BackendError, FileExists, FileNotFound, FSError, OperationNotSupported
from flask_fs.signing import as_timedelta
from flask_fs.streams import sha256_hex
from flask_fs.transfers import claim_name

if TYPE_CHECKING:
    from typing import IO

    from .s3 import S3Backend

#: The largest body S3 takes in one ``POST`` or ``PUT``: more goes in parts.
MAX_SINGLE_UPLOAD = 5 * 1024**3


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

    def publish_staged(self, staging: str, filename: str, *, overwrite: bool) -> None:
        backend = self.backend
        info = backend.head(staging)  # FileNotFound for an unknown staging name
        try:
            if overwrite or backend.create_only_copy:
                # One CopyObject (If-None-Match: * when create-only), whose new metadata
                # carries the SHA-256, read from the staged body first: of that version only
                # (a form can be sent again until it expires).
                with ObjectReader(backend, staging, info.size, info.etag) as reader:
                    digest = sha256_hex(cast("IO[bytes]", reader))
                args = backend._upload_args(filename, {CHECKSUM_KEY: digest})
                claim = claim_name(backend.claim_key(filename), filename, backend.name, overwrite)
                with claim, backend.errors(filename):
                    backend._client(not overwrite).copy_object(
                        Bucket=backend.bucket,
                        Key=backend._key(filename),
                        CopySource={"Bucket": backend.bucket, "Key": backend._key(staging)},
                        CopySourceIfMatch=info.etag,
                        MetadataDirective="REPLACE",
                        **args,
                    )
            else:
                # The pipeline's create-only copy: a create-only upload of the staged body,
                # hashed on its way (the servers tested disagree on a conditional CopyObject).
                backend.copy(staging, filename, overwrite=False)
        finally:
            with contextlib.suppress(FSError), backend.errors(staging):
                backend.delete_object(staging, info)  # else swept later

    # -- in parts ------------------------------------------------------------------------------

    def start_parts(self, filename: str, *, content_type: str | None) -> str:
        backend = self.backend
        args = backend._upload_args(filename, {})
        if content_type:
            args["ContentType"] = content_type
        with backend.errors(filename):
            answer = backend._client(False).create_multipart_upload(
                Bucket=backend.bucket, Key=backend._key(filename), **args
            )
        return cast(str, answer["UploadId"])

    def sign_part(
        self, filename: str, upload_id: str, number: int, *, expires: timedelta
    ) -> UploadForm:
        if not 1 <= number <= self.max_parts:
            raise FSError(f"a part number is 1 to {self.max_parts}, not {number}")
        backend = self.backend
        params = {
            "Bucket": backend.bucket,
            "Key": backend._key(filename),
            "UploadId": upload_id,
            "PartNumber": number,
        }
        with backend.errors(filename):
            url = backend.presign_client.generate_presigned_url(
                "upload_part", Params=params, ExpiresIn=_seconds(expires)
            )
        return UploadForm("PUT", cast(str, url))

    def stored_parts(self, filename: str, upload_id: str) -> list[StoredPart]:
        backend = self.backend
        paginator = backend.client.get_paginator("list_parts")
        pages = paginator.paginate(
            Bucket=backend.bucket, Key=backend._key(filename), UploadId=upload_id
        )
        with self._errors(filename, upload_id):
            return [
                StoredPart(int(part["PartNumber"]), int(part["Size"]), part["ETag"])
                for page in pages
                for part in page.get("Parts", ())
            ]

    def join_parts(
        self, filename: str, upload_id: str, parts: Sequence[StoredPart], *, overwrite: bool
    ) -> None:
        backend = self.backend
        listed = [{"PartNumber": part.number, "ETag": part.etag} for part in parts]
        try:
            # In-process claim: the servers tested check If-None-Match before they commit.
            claim = claim_name(backend.claim_key(filename), filename, backend.name, overwrite)
            with claim, self._errors(filename, upload_id):
                backend._client(not overwrite).complete_multipart_upload(
                    Bucket=backend.bucket,
                    Key=backend._key(filename),
                    UploadId=upload_id,
                    MultipartUpload={"Parts": listed},
                )
        except FileExists:
            if self._open(filename, upload_id):  # refused: else it was ours, its reply lost
                self.abort_parts(filename, upload_id)
                raise
        # The SHA-256, read once and tagged with the version it belongs to.
        with contextlib.suppress(BackendError, FileNotFound):
            backend.checksum(filename, backend.head(filename))

    def _open(self, filename: str, upload_id: str) -> bool:
        """Whether the upload is still in progress (not completed nor aborted)."""
        try:
            self.stored_parts(filename, upload_id)
        except FileNotFound:
            return False
        return True

    def abort_parts(self, filename: str, upload_id: str) -> None:
        backend = self.backend
        with contextlib.suppress(FileNotFound), self._errors(filename, upload_id):
            backend.client.abort_multipart_upload(
                Bucket=backend.bucket, Key=backend._key(filename), UploadId=upload_id
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


def _seconds(expires: timedelta) -> int:
    """Whole seconds (rounded up) of a positive expiry."""
    return math.ceil(as_timedelta(expires).total_seconds())
