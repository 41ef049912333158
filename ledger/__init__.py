"""The ledger: every change of voicepoints and reputation, as commands.

`apply(ctx, command)` is what the writer runs; `ledger.commands` lists the commands.
"""

from ledger.apply import apply

__all__ = ["apply"]
