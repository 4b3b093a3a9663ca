"""Images made by the tests themselves: no binary fixtures in the repository."""

from __future__ import annotations

import io

import pytest
from PIL import Image


def make_image(
    fmt: str = "JPEG", size: tuple[int, int] = (400, 300), mode: str = "RGB", **save: object
) -> bytes:
    """An image with a gradient (so that encoders have real work) in ``fmt``."""
    image = Image.linear_gradient("L").resize(size).convert(mode)
    if mode == "RGBA":
        alpha = Image.new("L", size, 0)
        alpha.paste(255, (0, 0, size[0] // 2, size[1]))  # left half opaque, right transparent
        image.putalpha(alpha)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


@pytest.fixture
def jpeg() -> bytes:
    return make_image("JPEG", (400, 300))
