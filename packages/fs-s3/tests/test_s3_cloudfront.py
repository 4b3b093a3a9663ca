"""CloudFront signed URLs, checked offline: no CloudFront is reachable from the tests.

What these tests show: the URL is the distribution's URL of the file, its canned policy (rebuilt
here from AWS's documented format) names that URL and the expiry, and the signature is RSA-SHA1
of that policy by the configured key, in CloudFront's URL-safe base64. What they cannot show:
that CloudFront accepts it (key group, distribution behaviour), nor that the distribution
forwards ``response-content-disposition`` to S3 so that the download name applies.
"""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from flask_fs.backends.s3 import S3Backend
from flask_fs.errors import ConfigurationError
from flask_fs.serving import content_disposition


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def pem(private_key: rsa.RSAPrivateKey) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def backend(**settings: Any) -> S3Backend:
    """An S3 backend that never contacts its server (signing is local)."""
    config = {"endpoint": "http://127.0.0.1:9", "access_key": "a", "secret_key": "s"}
    return S3Backend("cdn", {**config, **settings})


def verify(url: str, public_key: rsa.RSAPublicKey) -> tuple[str, int]:
    """The resource and expiry of a CloudFront canned-policy URL, once its signature is
    verified (``InvalidSignature`` otherwise)."""
    resource, _, signing = url.rpartition("Expires=")
    resource = resource[:-1]  # the ? or & before Expires
    query = parse_qs(signing and f"Expires={signing}")
    assert query["Key-Pair-Id"] == ["K2JCJMDEHXQW5F"]
    expires = int(query["Expires"][0])
    policy = (  # AWS's canned policy, byte for byte
        '{"Statement":[{"Resource":"' + resource + '",'
        '"Condition":{"DateLessThan":{"AWS:EpochTime":' + str(expires) + "}}}]}"
    )
    safe = query["Signature"][0].translate(str.maketrans("-_~", "+=/"))
    public_key.verify(base64.b64decode(safe), policy.encode(), padding.PKCS1v15(), hashes.SHA1())
    return resource, expires


def test_a_cloudfront_url_is_signed_by_the_key(pem: str, private_key: rsa.RSAPrivateKey) -> None:
    store = backend(
        cloudfront_key_id="K2JCJMDEHXQW5F",
        cloudfront_private_key=pem,
        cloudfront_domain="d111.cloudfront.net",
    )
    url = store.signed_url_of("reports/été 1.pdf", expires=timedelta(minutes=10))
    assert url is not None
    resource, expires = verify(url, private_key.public_key())
    assert resource == "https://d111.cloudfront.net/reports/%C3%A9t%C3%A9%201.pdf"
    assert abs(expires - (time.time() + 600)) < 5

    with pytest.raises(InvalidSignature):  # the check can fail: another file's resource
        verify(url.replace("1.pdf", "2.pdf"), private_key.public_key())


def test_the_download_name_is_in_the_signed_resource(
    pem: str, private_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    key_file = tmp_path / "cloudfront.pem"
    key_file.write_text(pem)
    store = backend(
        cloudfront_key_id="K2JCJMDEHXQW5F",
        cloudfront_private_key=str(key_file),
        url="https://cdn.example.com/files/",  # the storage's URL, as fs-core passes it
    )
    name = 'Facture "mars" été.pdf'
    url = store.signed_url_of("invoice.pdf", download_name=name, inline=False)
    assert url is not None
    resource, _ = verify(url, private_key.public_key())
    parts = urlsplit(resource)
    assert (parts.netloc, parts.path) == ("cdn.example.com", "/files/invoice.pdf")
    disposition = parse_qs(parts.query)["response-content-disposition"]
    assert disposition == [content_disposition(name, inline=False, mime="application/pdf")]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cloudfront_key_id": "K1"}, "CLOUDFRONT_PRIVATE_KEY"),
        (
            {
                "cloudfront_key_id": "K1",
                "cloudfront_private_key": "/nonexistent.pem",
                "cloudfront_domain": "d.net",
            },
            "neither a PEM key nor a readable file",
        ),
        (
            {
                "cloudfront_key_id": "K1",
                "cloudfront_private_key": "-----BEGIN nonsense",
                "cloudfront_domain": "d.net",
            },
            "not an unencrypted RSA private key",
        ),
    ],
)
def test_bad_cloudfront_settings_are_configuration_errors(
    settings: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        backend(**settings)
