"""The register files flows may build (the engine is the only floor flows import)."""

from fsm_bot.attendance import register_csv, register_xlsx

__all__ = ["register_csv", "register_xlsx"]
