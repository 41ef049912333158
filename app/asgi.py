"""Entry point for granian: `app.asgi:from_env` builds the app from VOICEPROFILE_*."""

from litestar import Litestar

from app.config import Settings
from app.deadlines import listen_for_signals
from app.main import create_app


def from_env() -> Litestar:
    app = create_app(Settings.from_env())
    listen_for_signals(app)  # a server process: SIGTERM starts the drain deadline
    return app
