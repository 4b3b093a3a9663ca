"""What a file's first bytes say it is (flask_fs.sniffing)."""

from __future__ import annotations

import pytest

from flask_fs.sniffing import family_of, matches, matches_name, sniff

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
ZIP = b"PK\x03\x04\x14\x00\x00\x00"
BMP = b"BM" + b"\x00" * 12 + (40).to_bytes(4, "little")


@pytest.mark.parametrize(
    ("head", "family"),
    [
        (PNG, "png"),
        (JPEG, "jpeg"),
        (b"GIF89a....", "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (BMP, "bmp"),
        (b"%PDF-1.7\n", "pdf"),
        (ZIP, "zip"),
        (b"\x00\x00\x00\x18ftypmp42", "isobmff"),
        (b"\x7fELF\x02\x01", "elf"),
        (b"hello, world\n", None),
        (b"BMW cars are ... not a bitmap", None),
        (b"", None),
    ],
)
def test_sniff(head: bytes, family: str | None) -> None:
    assert sniff(head) == family


def test_families_of_types() -> None:
    assert family_of("image/jpeg; charset=binary") == "jpeg"
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert family_of(docx) == "zip"
    assert family_of("text/plain") is None


def test_a_type_matches_its_signature_and_text_has_none() -> None:
    assert matches("image/png", PNG)
    assert not matches("image/png", JPEG)
    assert not matches("image/png", b"<html>")
    assert matches("text/plain", b"just text")
    assert not matches("text/plain", PNG)  # a PNG is not text
    assert matches("application/octet-stream", PNG)
    assert matches(None, PNG)
    assert not matches("application/json", ZIP)
    assert not matches("image/svg+xml", b"\x7fELF\x02")
    assert matches("application/x-compressed-tar", b"\x1f\x8b\x08")  # unknown: anything
    assert matches("video/quicktime", b"\x00\x00\x00\x08wide")


def test_names_say_what_they_hold() -> None:
    assert matches_name("a/photo.JPG", JPEG)
    assert not matches_name("photo.jpg", PNG)
    assert matches_name("report.docx", ZIP)
    assert not matches_name("notes.txt", ZIP)
    assert matches_name("no-extension", PNG)
