"""Entry point for granian: `app.asgi:from_env` builds the app from VOICEPROFILE_*."""

from litestar import Litestar

from app.config import Settings
from app.main import create_app


def from_env() -> Litestar:
    app = create_app(Settings.from_env())
    app.state.signals = True  # a server process: SIGTERM starts the drain deadline
    return app
