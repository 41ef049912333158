"""Images drawn by the server (SPEC §14, weeb.sh "korra"): one module per kind, each
`draw(...) -> PIL.Image`, all artwork made by code. `common` decodes what clients
send and holds the shared drawing tools."""

from app.imaging import awooo, eyes, won

__all__ = ["SIMPLE_TYPES"]

SIMPLE_TYPES = {"awooo": awooo, "eyes": eyes, "won": won}
"""`GET /auto-image/generate?type=`: the kinds, in the original's order of mention."""
