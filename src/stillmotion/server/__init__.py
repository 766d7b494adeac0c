"""The stillmotion server: a durable HTTP job API, its worker processes and the browser UI.

``stillmotion serve`` runs :func:`create_app` under uvicorn. Needs the
``server`` extra: ``pip install 'stillmotion[server]'``.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(*args, **kwargs):
    """See :func:`stillmotion.server.app.create_app` (imported lazily: FastAPI is optional)."""
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)
