"""One validator for every name, and the cleaning of client-supplied names."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_fs import names
from flask_fs.errors import FSError, InvalidFilename
from flask_fs.names import clean_filename, extension_of, join_name, validate_name, validate_prefix
from flask_fs.testing.names import HOSTILE_NAMES


@pytest.mark.parametrize(
    "name", ["a", "a.txt", "a/b/c.txt", "ünï/文件 1.txt", ".hidden", "a..b", "...x", "con.txt"]
)
def test_safe_names_are_returned_unchanged(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
def test_hostile_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidFilename):
        validate_name(name)


@pytest.mark.parametrize("value", [None, b"a.txt", 42, ["a"]])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(InvalidFilename, match="must be a str"):
        validate_name(value)


@settings(max_examples=10_000, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.lists(st.sampled_from(["..", ".", "", "a", "é", "\\", "\x00", "b.txt", "C:"])).map(
            "/".join
        ),
    )
)
def test_generated_names_never_escape_and_only_raise_fs_errors(name: str) -> None:
    try:
        result = validate_name(name)
    except FSError:
        return
    assert result == name
    # An accepted name is already normal: joined under any root it stays under that root.
    assert posixpath.normpath(name) == name
    assert not name.startswith("/")
    assert "\\" not in name
    assert "\x00" not in name
    assert posixpath.normpath(posixpath.join("/root", name)).startswith("/root/")


@settings(max_examples=5_000, deadline=None)
@given(
    st.lists(
        st.text(alphabet="aZ9_.-/\\é\x00", max_size=300)
        | st.sampled_from([".", "..", ".fs-tmp-x", "-a", "_", "a" * 255, "a" * 256]),
        min_size=1,
        max_size=5,
    ).map("/".join)
)
def test_the_fast_path_accepts_only_what_every_rule_accepts(name: str) -> None:
    """``validate_name`` tells common names at once; its verdict is the rules' verdict."""
    try:
        names._checked_name(name)
    except InvalidFilename:
        fully = False
    else:
        fully = True
    if names._PLAIN.fullmatch(name) and len(name) <= names.MAX_NAME_BYTES:
        assert fully, name
    try:
        validate_name(name)
    except InvalidFilename:
        assert not fully
    else:
        assert fully


def test_plain_names_at_the_limits() -> None:
    assert validate_name("a" * 255 + "/" + "b" * 255) == "a" * 255 + "/" + "b" * 255
    for refused in ["a" * 256, "a/" + "b" * 256, ("a" * 200 + "/") * 4 + "a" * 200, "a/.fs-tmp-x"]:
        with pytest.raises(InvalidFilename):
            validate_name(refused)


def test_prefix_validation_keeps_one_trailing_slash() -> None:
    assert validate_prefix("a/b/") == "a/b/"
    assert validate_prefix("a") == "a"
    for bad in ("../", "a//", "/a", "a/../"):
        with pytest.raises(InvalidFilename):
            validate_prefix(bad)


def test_join_name() -> None:
    assert join_name(None, "f.txt") == "f.txt"
    assert join_name("", "f.txt") == "f.txt"
    assert join_name("a/b/", "f.txt") == "a/b/f.txt"
    with pytest.raises(InvalidFilename):
        join_name("../up", "f.txt")


@pytest.mark.parametrize(
    ("client_name", "cleaned"),
    [
        ("photo.JPG", "photo.jpg"),
        ("Été 2024.png", "Été_2024.png"),
        ("文件.txt", "文件.txt"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.DOCX", "report.docx"),
        ("a b\tc\x00d.txt", "a_b_cd.txt"),
        (".htaccess", "file.htaccess"),
        ("..", None),
        ("name.with.dots.tar.gz", "name.with.dots.tar.gz"),
        ("<script>.html", "script.html"),
    ],
)
def test_clean_filename(client_name: str, cleaned: str | None) -> None:
    if cleaned is None:
        with pytest.raises(InvalidFilename):
            clean_filename(client_name)
    else:
        assert clean_filename(client_name) == cleaned


def test_clean_filename_keeps_the_extension_of_long_names() -> None:
    cleaned = clean_filename("é" * 300 + ".jpeg")
    assert cleaned.endswith(".jpeg")
    assert len(cleaned.encode()) <= 255


@pytest.mark.parametrize("client_name", ["", None, "///", "\x00"])
def test_clean_filename_without_a_usable_name(client_name: str | None) -> None:
    with pytest.raises(InvalidFilename):
        clean_filename(client_name)


@pytest.mark.parametrize(
    ("name", "ext"),
    [("a.txt", "txt"), ("a.TAR.GZ", "gz"), ("dir.d/file", ""), (".bashrc", ""), ("a.", "")],
)
def test_extension_of(name: str, ext: str) -> None:
    assert extension_of(name) == ext
