"""Every code example of the Flask-FS 0.4.0 manual runs on flask-fs (issue 14, "Done when").

Each example is copied below as text from the manual, as it is printed there; only its typos are
fixed, each fix noted in a ``# typo:`` comment inside the example. A test executes the text and
checks what the manual says it does, on real backends: the local one always, S3 on every test
server, GridFS and mongoengine on the MongoDB-wire server, Swift on the all-in-one.

What the test itself adds around an example (the application, ``init_app`` with the storages the
example declares, a test server's address in place of a placeholder) is written outside the
example's text, never inside it.
"""

from __future__ import annotations

import io
import textwrap
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from flask import Flask
from PIL import Image
from werkzeug.datastructures import FileStorage

import flask_fs as fs
from flask_fs.errors import FileExists, UnauthorizedFileType

# -- the manual's examples, as text ----------------------------------------------------------------

INITIALIZATION = """
from flask import Flask
import flask_fs as fs

app = Flask(__name__)
fs.init_app(app)
"""

DECLARATION = """
import flask_fs as fs

images = fs.Storage('images')
uploads = fs.Storage('uploads')
"""

LIMITED_TYPES = """
import flask_fs as fs

images = fs.Storage('images', fs.IMAGES)
custom = fs.Storage('custom', ('bat', 'sh'))
"""

BY_EXCLUSION = """
import flask_fs as fs

WITHOUT_SCRIPTS = fs.AllExcept(fs.SCRIPTS + fs.EXECUTABLES)
store = fs.Storage('store', WITHOUT_SCRIPTS)
"""

OVERWRITE = """
import flask_fs as fs

store = fs.Storage('store', overwrite=True)
"""

# The manual prints this block across a page break; it is one example.
OPERATIONS_DECLARATION = """
store = fs.Storage('store')
"""
OPERATIONS = """
# Writing
store.write('my.file', 'content')

# Reading
content = store.read('my.file')

# Working with file object
with store.open('my.file', 'wb') as f:
    # do something
    f.write(b'new content')  # typo: a block needs a statement; this one writes

# Testing file presence
if store.exists('my.file'):
    # do something
    present = True  # typo: a block needs a statement

if 'my.file' in store:
    # do something
    contained = True  # typo: a block needs a statement

# Deleting file
store.delete('my.file')
"""

AVATARS = """
import flask_fs as fs

avatars = fs.Storage('avatars', fs.IMAGES)
"""

AVATARS_ROOT = """
AVATARS_FS_ROOT = '/somewhere/on/the/filesystem'
"""

BACKEND_URL = """
FS_S3_URL = 'https://s3.somewhere.com/'
FS_S3_REGION = 'us-east-1'
"""

CUSTOM_BACKEND_ENTRY_POINTS = """
entry_points={
    'fs.backend': [
        'custom = my.custom.package:CustomBackend',
    ]
},
"""

SAMPLE_STORAGES = """
import flask_fs as fs

files = fs.Storage('files')
avatars = fs.Storage('avatars', fs.IMAGES)
images = fs.Storage('images', fs.IMAGES)
"""

SAMPLE_CONFIGURATION = """
# Shared S3 configuration
FS_S3_ENDPOINT = 'https://s3-eu-west-2.amazonaws.com'
FS_S3_REGION = 'eu-west-2'
FS_S3_ACCESS_KEY = 'ABCDEFGHIJKLMNOQRSTUVWXYZ'
FS_S3_SECRET_KEY = 'abcdefghijklmnopqrstuvwxyz1234567890abcdef'
FS_S3_URL = 'https://s3.somewhere.com/'

# storage specific configuration
AVATARS_FS_BACKEND = 's3'
IMAGES_FS_BACKEND = 's3'
"""

SAMPLE_URLS = """
IMAGES_FS_URL = 'https://images.somewhere.com/'  # typo: FILES_FS_URL, set twice in the manual
FILES_FS_URL = 'https://files.somewhere.com/'
"""

MONGOENGINE_FILE = """
files = fs.Storage('files', fs.ALL)  # typo: the manual declares `images` here and uses `files`
                                     # typo: upload_to and basename are FileField's arguments

class MyDoc(Document):
    file = FileField(fs=files,
                     upload_to=lambda o: 'prefix',  # typo: moved from the Storage
                     basename=lambda o: 'basename')  # typo: moved from the Storage

doc = MyDoc()

# Test file presence
print(bool(doc.file)) # False
# Get filename
print(doc.file.filename) # None
# Get file URL
print(doc.file.url) # None
# Print file URL
print(str(doc.file)) # ''

doc.file.save(io.BytesIO(b'xxx'), 'test.file')  # typo: io.Bytes

print(bool(doc.file)) # True
print(doc.file.filename) # 'prefix/test.file'  (typo: printed 'test.file'; 0.4.0 gave this too)
print(doc.file.url) # 'http://myserver.com/files/prefix/test.file'
print(str(doc.file)) # 'http://myserver.com/files/prefix/test.file'

# Override Werkzeug Filestorage filename with basename
f = FileStorage(io.BytesIO(b'xxx'), 'test.file')  # typo: io.Bytes
doc.file.save(f)
print(doc.file.filename) # 'prefix/basename.file'  (typo: printed without the prefix)
"""

MONGOENGINE_IMAGE = """

images = fs.Storage('images', fs.IMAGES)
files = fs.Storage('files', fs.ALL)

class MyDoc(Document):
    image = ImageField(fs=images,
                      max_size=150,
                      thumbnails=[100, 32])

doc = MyDoc()

with open(some_image, 'rb') as f:
    doc.image.save(f, 'test.png')  # typo: doc.file (MyDoc has no `file`)

print(doc.image.filename) # 'test.png'
print(doc.image.original) # 'test-original.png'
print(doc.image.thumbnail(100)) # 'test-100.png'
print(doc.image.thumbnail(32)) # 'test-32.png'

# Guess best image url for a given size
assert doc.image.best_url().endswith(doc.image.filename)
assert doc.image.best_url(200).endswith(doc.image.filename)
assert doc.image.best_url(150).endswith(doc.image.filename)
assert doc.image.best_url(100).endswith(doc.image.thumbnail(100))
assert doc.image.best_url(90).endswith(doc.image.thumbnail(100))
assert doc.image.best_url(30).endswith(doc.image.thumbnail(32))

# Call as shortcut for best_url()
assert doc.image().endswith(doc.image.filename)
assert doc.image(200).endswith(doc.image.filename)
assert doc.image(150).endswith(doc.image.filename)
assert doc.image(100).endswith(doc.image.thumbnail(100))

# Save an optionnal bbox for thumbnails cropping
bbox = (10, 10, 100, 100)
with open(some_image, 'rb') as f:
    doc.image.save(f, 'test.png', bbox=bbox)  # typo: doc.file (MyDoc has no `file`)

"""

CONFIGURE_PATTERN = """
FS_{BACKEND_NAME}_{KEY} then
{STORAGE_NAME}_FS_{KEY}
"""

ALL_EXCEPT = """
AllExcept(('exe', 'iso'))
"""

ALL_EXCEPT_PRESETS = """
AllExcept(SCRIPTS + EXECUTABLES)  # typo: SRIPTS
"""


# -- running them -----------------------------------------------------------------------------


def run(example: str, namespace: dict[str, Any], where: str) -> dict[str, Any]:
    """Execute an example's text in ``namespace``; return the namespace."""
    exec(compile(textwrap.dedent(example), f"<manual: {where}>", "exec"), namespace)
    return namespace


def settings_of(example: str) -> dict[str, Any]:
    """The configuration keys a configuration example sets."""
    namespace = run(example, {}, "configuration")
    return {key: value for key, value in namespace.items() if key.isupper()}


def storages_in(namespace: dict[str, Any]) -> list[fs.Storage]:
    return [value for value in namespace.values() if isinstance(value, fs.Storage)]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The Quick Start's application (its instance folder, and so FS_ROOT, under tmp_path)."""
    monkeypatch.chdir(tmp_path)  # Flask(__name__) of an unknown module: the cwd is its root
    namespace = run(INITIALIZATION, {"__name__": "manual_app"}, "Initialization")
    app = namespace["app"]
    assert isinstance(app, Flask)
    app.config["SERVER_NAME"] = "myserver.com"
    return app


def init(app: Flask, namespace: dict[str, Any]) -> None:
    """``fs.init_app(app, *storages)`` for the storages an example declared, as the manual's
    Initialization and ``init_app`` reference say to."""
    fs.init_app(app, *storages_in(namespace))


# -- Quick Start ----------------------------------------------------------------------------------


def test_initialization_configures_the_local_default(app: Flask, tmp_path: Path) -> None:
    assert app.config["FS_BACKEND"] == "local"
    assert app.config["FS_ROOT"] == str(tmp_path / "instance" / "fs")
    assert app.config["FS_SERVE"] is False  # DEBUG


def test_storages_declaration(app: Flask, tmp_path: Path) -> None:
    namespace = run(DECLARATION, {}, "Storages declaration")
    init(app, namespace)
    with app.app_context():
        namespace["uploads"].write("a.txt", "a")
        namespace["images"].write("b.txt", "b")
    root = tmp_path / "instance" / "fs"
    assert (root / "uploads" / "a.txt").read_bytes() == b"a"
    assert (root / "images" / "b.txt").read_bytes() == b"b"


def test_limited_file_types(app: Flask) -> None:
    namespace = run(LIMITED_TYPES, {}, "limit the allowed file types")
    init(app, namespace)
    images, custom = namespace["images"], namespace["custom"]
    with app.app_context():
        assert images.save(io.BytesIO(b"png"), "a.png") == "a.png"
        assert custom.save(io.BytesIO(b"echo"), "run.sh") == "run.sh"
        assert custom.save(io.BytesIO(b"echo"), "run.bat") == "run.bat"
        for storage, refused in ((images, "a.txt"), (custom, "a.png")):
            with pytest.raises(UnauthorizedFileType):
                storage.save(io.BytesIO(b"x"), refused)


def test_allowed_by_exclusion(app: Flask) -> None:
    namespace = run(BY_EXCLUSION, {}, "allowed extensions by exclusion")
    init(app, namespace)
    store = namespace["store"]
    with app.app_context():
        assert store.save(io.BytesIO(b"x"), "a.csv") == "a.csv"
        assert store.save(io.BytesIO(b"x"), "a.unknownext") == "a.unknownext"
        for refused in ("a.php", "a.sh", "a.exe", "a.dll"):
            with pytest.raises(UnauthorizedFileType):
                store.save(io.BytesIO(b"x"), refused)


def test_overwrite_parameter(app: Flask) -> None:
    namespace = run(OVERWRITE, {}, "overwrite parameter")
    init(app, namespace)
    with app.app_context():
        store = namespace["store"]
        store.write("a.txt", "first")
        store.write("a.txt", "second")
        assert store.read("a.txt") == b"second"


def test_storages_operations(app: Flask) -> None:
    namespace = run(OPERATIONS_DECLARATION, {"fs": fs}, "Storages operations")
    init(app, namespace)
    before_delete, deleting = OPERATIONS.split("# Deleting file")
    with app.app_context():
        store = namespace["store"]
        run(before_delete, namespace, "Storages operations")
        assert namespace["content"] == b"content"
        assert store.read("my.file") == b"new content"  # open('my.file', 'wb') replaced it
        assert namespace["present"]
        assert namespace["contained"]
        run(deleting, namespace, "Storages operations")
        assert not store.exists("my.file")


# -- Configuration --------------------------------------------------------------------------------


def test_storage_root_override(app: Flask, tmp_path: Path) -> None:
    namespace = run(AVATARS, {}, "Storages configuration")
    app.config.update(settings_of(AVATARS_ROOT))
    init(app, namespace)
    avatars = namespace["avatars"]
    with app.app_context():
        assert avatars.path("a.png") == "/somewhere/on/the/filesystem/a.png"
    # Writing there needs that folder: the same setting, with a folder of the test instead.
    other = Flask("manual_root", instance_path=str(tmp_path / "other"))
    other.config["AVATARS_FS_ROOT"] = str(tmp_path / "somewhere")
    avatars = run(AVATARS, {}, "Storages configuration")["avatars"]
    fs.init_app(other, avatars)
    with other.app_context():
        avatars.write("a.png", b"png")
    assert (tmp_path / "somewhere" / "a.png").read_bytes() == b"png"


def test_backend_level_url_and_region(app: Flask) -> None:
    namespace = run(AVATARS, {}, "Storages configuration")
    app.config.update(settings_of(BACKEND_URL), AVATARS_FS_BACKEND="s3")
    init(app, namespace)
    avatars = namespace["avatars"]
    with app.app_context():
        assert avatars.base_url == "https://s3.somewhere.com/avatars/"
        assert avatars.url("me.png") == "https://s3.somewhere.com/avatars/me.png"
        assert avatars.config.region == "us-east-1"


def test_configure_pattern_names_both_levels(app: Flask) -> None:
    # The reference of Storage.configure shows the two key patterns, not Python: run each.
    backend_key, storage_key = CONFIGURE_PATTERN.split(" then\n")
    app.config[backend_key.strip().format(BACKEND_NAME="LOCAL", KEY="URL")] = "https://b.example/"
    files = fs.Storage("files")
    other = fs.Storage("other")
    app.config[storage_key.strip().format(STORAGE_NAME="OTHER", KEY="URL")] = "https://o.example/"
    fs.init_app(app, files, other)
    with app.app_context():
        assert files.base_url == "https://b.example/files/"
        assert other.base_url == "https://o.example/"  # the storage's own key wins


# -- Backends -------------------------------------------------------------------------------------


@pytest.fixture
def s3_bucket_for(s3_server: Any) -> Any:
    """``s3_bucket_for(name)`` makes the bucket a storage named ``name`` uses by default."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
        region_name=s3_server.region,
        config=BotoConfig(s3={"addressing_style": "path"}),
    )

    def make(name: str) -> None:
        try:
            client.create_bucket(Bucket=name)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
        except client.exceptions.ClientError as exc:  # some servers answer otherwise
            if "BucketAlreadyExists" not in str(exc):
                raise

    return make


def _round_trip(storage_or_backend: Any) -> None:
    name = f"manual-{uuid.uuid4().hex}.txt"
    storage_or_backend.write(name, "content")
    assert storage_or_backend.read(name) == b"content"
    storage_or_backend.delete(name)
    assert not storage_or_backend.exists(name)


def test_local_backend_settings(tmp_path: Path) -> None:
    from flask_fs.backends.local import LocalBackend

    _round_trip(LocalBackend("files", {"root": str(tmp_path)}))


def test_s3_backend_settings(s3_server: Any, s3_bucket_for: Any) -> None:
    from flask_fs.backends.s3 import S3Backend

    s3_bucket_for("manual-files")
    backend = S3Backend(
        "manual-files",
        {
            "endpoint": s3_server.endpoint,
            "region": s3_server.region,
            "access_key": s3_server.access_key,
            "secret_key": s3_server.secret_key,
        },
    )
    _round_trip(backend)


def test_gridfs_backend_settings(mongo_url: str) -> None:
    from flask_fs.backends.gridfs import GridFsBackend

    _round_trip(GridFsBackend("files", {"mongo_url": mongo_url, "mongo_db": "manual_0_4"}))


def test_swift_backend_settings(swift_server: Any) -> None:
    from flask_fs.backends.swift import SwiftBackend

    settings = {"authurl": swift_server.authurl, "user": swift_server.user}
    _round_trip(SwiftBackend("manual-files", {**settings, "key": swift_server.key}))


def test_backends_from_the_application_config(
    app: Flask, s3_server: Any, s3_bucket_for: Any, mongo_url: str, swift_server: Any
) -> None:
    """The settings each backend section lists, as ``FS_{BACKEND}_{KEY}`` keys, and nothing else."""
    s3_bucket_for("manual-s3")
    app.config.update(
        MANUAL_S3_FS_BACKEND="s3",
        FS_S3_ENDPOINT=s3_server.endpoint,
        FS_S3_REGION=s3_server.region,
        FS_S3_ACCESS_KEY=s3_server.access_key,
        FS_S3_SECRET_KEY=s3_server.secret_key,
        MANUAL_GRIDFS_FS_BACKEND="gridfs",
        FS_GRIDFS_MONGO_URL=mongo_url,
        FS_GRIDFS_MONGO_DB="manual_0_4",
        MANUAL_SWIFT_FS_BACKEND="swift",
        FS_SWIFT_AUTHURL=swift_server.authurl,
        FS_SWIFT_USER=swift_server.user,
        FS_SWIFT_KEY=swift_server.key,
    )
    storages = [fs.Storage(f"manual-{kind}") for kind in ("local", "s3", "gridfs", "swift")]
    fs.init_app(app, *storages)
    with app.app_context():
        for storage in storages:
            _round_trip(storage)


CUSTOM_BACKEND_MODULE = '''
from flask_fs.backends import BaseBackend


class CustomBackend(BaseBackend):
    """A backend written to the 0.4.0 manual's BaseBackend, in memory."""

    def __init__(self, name, config):
        super().__init__(name, config)
        self.files = {}

    def exists(self, filename):
        return filename in self.files

    def open(self, filename, *args, **kwargs):
        raise NotImplementedError

    def read(self, filename):
        return self.files[filename]

    def write(self, filename, content):
        self.files[filename] = self.as_binary(content)

    def delete(self, filename):
        del self.files[filename]

    def save(self, file_or_wfs, filename, overwrite=False):
        self.write(filename, file_or_wfs.read())
        return filename

    def serve(self, filename):
        raise NotImplementedError
'''


def test_custom_backend_registered_by_entry_point(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # setup.py's argument, as the manual shows it (a keyword argument, hence the trailing comma).
    setup_kwargs = run(f"setup_kwargs = dict({CUSTOM_BACKEND_ENTRY_POINTS})", {}, "entry points")
    entry_points = setup_kwargs["setup_kwargs"]["entry_points"]
    # Installed as pip would: the package my.custom.package, and the distribution's entry points.
    site = tmp_path / "site"
    package = site / "my" / "custom" / "package"
    package.mkdir(parents=True)
    for folder in (site / "my", site / "my" / "custom"):
        (folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text(CUSTOM_BACKEND_MODULE)
    dist_info = site / "my_custom-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-custom\nVersion: 1.0\n")
    lines = "".join(f"{line}\n" for line in entry_points["fs.backend"])
    (dist_info / "entry_points.txt").write_text("[fs.backend]\n" + lines)
    monkeypatch.syspath_prepend(str(site))

    app.config["FILES_FS_BACKEND"] = "custom"
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.app_context():
        files.write("a.txt", "content")
        assert files.read("a.txt") == b"content"
        with pytest.raises(FileExists):
            files.write("a.txt", "refused: the storage does not overwrite")
        files.delete("a.txt")
        assert "a.txt" not in files


# -- Sample configuration -------------------------------------------------------------------------


def test_sample_configuration_urls(app: Flask) -> None:
    namespace = run(SAMPLE_STORAGES, {}, "Sample configuration")
    app.config.update(settings_of(SAMPLE_CONFIGURATION) | settings_of(SAMPLE_URLS))
    init(app, namespace)
    files, avatars, images = (namespace[name] for name in ("files", "avatars", "images"))
    with app.app_context():
        # "files: local storage served on https://files.somewhere.com/"
        assert files.config.backend == "local"
        assert files.base_url == "https://files.somewhere.com/"
        # "avatars: s3 storage served on https://s3.somewhere.com/avatars/"
        assert avatars.config.backend == "s3"
        assert avatars.base_url == "https://s3.somewhere.com/avatars/"
        # "images: s3 storage served on https://images.somewhere.com/"
        assert images.config.backend == "s3"
        assert images.base_url == "https://images.somewhere.com/"
        assert avatars.config.endpoint == "https://s3-eu-west-2.amazonaws.com"
        assert avatars.config.region == "eu-west-2"


def test_sample_configuration_on_a_real_server(
    app: Flask, s3_server: Any, s3_bucket_for: Any
) -> None:
    """The sample, with the test server's address and credentials in place of AWS's."""
    namespace = run(SAMPLE_STORAGES, {}, "Sample configuration")
    config = settings_of(SAMPLE_CONFIGURATION) | settings_of(SAMPLE_URLS)
    config.update(
        FS_S3_ENDPOINT=s3_server.endpoint,
        FS_S3_REGION=s3_server.region,
        FS_S3_ACCESS_KEY=s3_server.access_key,
        FS_S3_SECRET_KEY=s3_server.secret_key,
    )
    app.config.update(config)
    s3_bucket_for("avatars")
    s3_bucket_for("images")
    init(app, namespace)
    with app.app_context():
        for storage in storages_in(namespace):
            name = f"manual-{uuid.uuid4().hex}.png"
            storage.save(io.BytesIO(b"png"), name)
            assert storage.read(name) == b"png"
            assert storage.url(name) == f"{storage.base_url}{name}"
            storage.delete(name)


# -- Mongoengine support --------------------------------------------------------------------------


@pytest.fixture
def mongo_app(app: Flask, mongoengine_db: str) -> Flask:
    app.config["FS_URL"] = "http://myserver.com/"  # the URL the manual's comments print
    return app


def _mongo_namespace() -> dict[str, Any]:
    from mongoengine import Document

    from flask_fs.mongo import FileField, ImageField

    return {
        "__name__": f"manual_mongo_{uuid.uuid4().hex[:8]}",
        "fs": fs,
        "io": io,
        "Document": Document,
        "FileField": FileField,
        "ImageField": ImageField,
        "FileStorage": FileStorage,
    }


def test_mongoengine_file_field(
    mongo_app: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace = _mongo_namespace()
    # Declared first so that init_app can configure it before the example uses it.
    declarations, rest = MONGOENGINE_FILE.split("class MyDoc")
    run(declarations, namespace, "Mongoengine support")
    init(mongo_app, namespace)
    with mongo_app.app_context():
        run("class MyDoc" + rest, namespace, "Mongoengine support")
        namespace["doc"].save()
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "False",
        "None",
        "None",
        "",
        "True",
        "prefix/test.file",
        "http://myserver.com/files/prefix/test.file",
        "http://myserver.com/files/prefix/test.file",
        "prefix/basename.file",
    ]
    folder = tmp_path / "instance" / "fs" / "files" / "prefix"
    assert sorted(p.name for p in folder.iterdir()) == ["basename.file"]  # test.file replaced


def _picture(path: Path) -> None:
    gradient = Image.linear_gradient("L").resize((400, 300)).convert("RGB")
    gradient.save(path, "PNG")


def test_mongoengine_image_field(
    mongo_app: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    some_image = tmp_path / "some_image.png"
    _picture(some_image)
    namespace = {**_mongo_namespace(), "some_image": str(some_image)}
    declarations, rest = MONGOENGINE_IMAGE.split("class MyDoc")
    run(declarations, namespace, "ImageField")
    init(mongo_app, namespace)
    with mongo_app.app_context():
        run("class MyDoc" + rest, namespace, "ImageField")
        doc = namespace["doc"]
        doc.save()
        assert doc.image.bbox == (10, 10, 100, 100)
        images = namespace["images"]
        with images.open(doc.image.filename, "rb") as f:
            assert max(Image.open(f).size) == 150  # max_size
        with images.open(doc.image.original, "rb") as f:
            assert Image.open(f).size == (400, 300)  # untouched
        with images.open(doc.image.thumbnail(32), "rb") as f:
            assert Image.open(f).size == (32, 32)
        doc.image.render()  # the API reference's name
        doc.image.rerender()  # and the 0.3.0 changelog's
    assert capsys.readouterr().out.splitlines() == [
        "test.png",
        "test-original.png",
        "test-100.png",
        "test-32.png",
    ]


# -- API reference --------------------------------------------------------------------------------


def test_all_except_examples() -> None:
    pairs = run(ALL_EXCEPT, {"AllExcept": fs.AllExcept}, "AllExcept")
    namespace = {**pairs, "AllExcept": fs.AllExcept, "SCRIPTS": fs.SCRIPTS}
    namespace["EXECUTABLES"] = fs.EXECUTABLES
    run(f"one = {ALL_EXCEPT.strip()}\ntwo = {ALL_EXCEPT_PRESETS.strip()}", namespace, "AllExcept")
    one, two = namespace["one"], namespace["two"]
    assert "exe" not in one
    assert "iso" not in one
    assert "png" in one
    assert "php" not in two
    assert "dll" not in two
    assert "iso" in two


def test_storage_reference(app: Flask, tmp_path: Path) -> None:
    """Every Storage member of the API reference, called with the arguments it documents."""
    app.config.update(FS_SERVE=True)
    store = fs.Storage(name="store", extensions=fs.DEFAULTS, upload_to=None, overwrite=False)
    fs.init_app(app, store)
    with app.test_request_context():
        assert fs.by_name("store") is store
        store.configure(app)
        assert store.has_url
        assert store.base_url == "http://myserver.com/store/"
        assert store.write(filename="a.txt", content="a", overwrite=False) == "a.txt"
        assert store.exists(filename="a.txt")
        assert store.read(filename="a.txt") == b"a"
        with store.open(filename="a.txt", mode="r") as f:
            assert f.read() == "a"
        assert store.extension_allowed(ext="txt")
        upload = FileStorage(io.BytesIO(b"b"), "b.txt")
        assert store.file_allowed(storage=upload, basename="b.txt")
        assert store.save(file_or_wfs=upload, filename=None, prefix="up", overwrite=None) == (
            "up/b.txt"
        )
        assert sorted(store.list_files()) == ["a.txt", "up/b.txt"]
        assert store.path(filename="a.txt") == str(tmp_path / "instance" / "fs" / "store" / "a.txt")
        folder = str(tmp_path / "instance" / "fs" / "store")
        assert store.resolve_conflict(target_folder=folder, basename="a.txt") == "a_1.txt"
        assert store.url(filename="a.txt", external=True) == "http://myserver.com/store/a.txt"
        response = store.serve(filename="a.txt")
        response.direct_passthrough = False
        assert response.get_data() == b"a"
        store.delete(filename="a.txt")
        assert not store.exists("a.txt")


def test_file_types_reference() -> None:
    assert list(fs.TEXT) == ["txt"]
    assert list(fs.DOCUMENTS) == [
        "rtf", "odf", "ods", "gnumeric", "abw", "doc", "docx", "xls", "xlsx"
    ]  # fmt: skip
    assert set(fs.IMAGES) >= {"jpg", "jpe", "jpeg", "png", "gif", "svg", "bmp"}
    assert list(fs.AUDIO) == ["wav", "mp3", "aac", "ogg", "oga", "flac"]
    # typo: the manual lists 'yaml' twice; 0.4.0's DATA ends with 'yaml', 'yml'
    assert list(fs.DATA) == ["csv", "ini", "json", "plist", "xml", "yaml", "yml"]
    assert list(fs.SCRIPTS) == ["js", "php", "pl", "py", "rb", "sh", "bat"]
    assert list(fs.ARCHIVES) == ["gz", "bz2", "zip", "tar", "tgz", "txz", "7z"]
    assert list(fs.EXECUTABLES) == ["so", "exe", "dll"]
    assert set(fs.DEFAULTS) >= {*fs.TEXT, *fs.DOCUMENTS, *fs.IMAGES, *fs.DATA}
    assert "anything" in fs.ALL
    assert isinstance(fs.ALL, fs.All)
    assert "anything" not in fs.NONE


def test_make_thumbnail_reference(tmp_path: Path) -> None:
    from flask_fs.images import make_thumbnail

    _picture(tmp_path / "a.png")
    with open(tmp_path / "a.png", "rb") as file:
        thumbnail = make_thumbnail(file=file, size=50, bbox=(10, 10, 100, 100))
    assert Image.open(thumbnail).size == (50, 50)


def test_backend_reference(tmp_path: Path) -> None:
    """BaseBackend's members, on the local backend, called as the reference documents them."""
    from flask_fs.backends.local import LocalBackend

    backend = LocalBackend(name="files", config={"root": str(tmp_path)})
    assert backend.as_binary(content="é", encoding="utf8") == "é".encode()
    backend.write(filename="a.txt", content="a")
    assert backend.exists(filename="a.txt")
    assert backend.read(filename="a.txt") == b"a"
    with backend.open("a.txt") as f:
        assert f.read() == "a"
    backend.save(file_or_wfs=FileStorage(io.BytesIO(b"b"), "x.txt"), filename="b.txt")
    with pytest.raises(FileExists):
        backend.save(io.BytesIO(b"c"), "b.txt", overwrite=False)
    assert backend.path(filename="b.txt") == str(tmp_path / "b.txt")
    backend.delete(filename="a.txt")
    assert not backend.exists("a.txt")
    app = Flask("manual_serve")
    with app.test_request_context():
        response = backend.serve(filename="b.txt")
        response.direct_passthrough = False
        assert response.get_data() == b"b"


def test_errors_reference() -> None:
    from flask_fs import errors

    for name in (
        "FileExists",
        "FileNotFound",
        "UnauthorizedFileType",
        "UploadNotAllowed",
        "OperationNotSupported",
    ):
        assert issubclass(getattr(errors, name), errors.FSError)
    from flask_fs.storage import Config

    config = Config(root="/x")
    assert config.root == config["root"] == "/x"
