"""Links to the application's own views (the serving view, the direct uploads' routes), built
with Flask's ``url_for``: outside a request it needs ``SERVER_NAME``, and its ``RuntimeError``
is turned into the library's :class:`~flask_fs.errors.ConfigurationError`."""

from __future__ import annotations

from typing import Any

from flask import has_app_context, has_request_context, url_for

from .errors import ConfigurationError


def view_url(endpoint: str, *, external: bool = False, **values: Any) -> str:
    """``url_for(endpoint, **values)``; a :class:`~flask_fs.errors.ConfigurationError` when
    there is no request to build it from and no ``SERVER_NAME`` (nor application context)."""
    try:
        return url_for(endpoint, _external=external, **values)
    except RuntimeError as error:
        if has_request_context():
            raise  # not for want of a request: the application's own (a URL hook's)
        where = "a request" if has_app_context() else "an application context"
        raise ConfigurationError(
            f"a link to {endpoint!r} cannot be built outside {where}: set SERVER_NAME (and "
            "PREFERRED_URL_SCHEME) in the application's config, or build it within a request"
        ) from error


__all__ = ["view_url"]
