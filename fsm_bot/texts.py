"""Texts users read, from a catalog per locale, never from handlers.

Catalogs are YAML files named `<locale>.yaml` in `fsm_bot/locales/` (the engine's words) and in
`flows/locales/` (each dialog's words), merged into one flat key space: `menu.title`,
`broadcast.ask_text`. A missing key is a bug in our code, so it raises, and tests catch it,
rather than showing a student "broadcast.ask_text".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

ENGINE_CATALOGS = Path(__file__).parent / "locales"


def _flatten(prefix: str, tree: Mapping[str, Any], into: dict[str, str]) -> None:
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(name + ".", value, into)
        else:
            into[name] = str(value)


class Texts:
    """One locale's catalog."""

    def __init__(self, entries: Mapping[str, str], locale: str) -> None:
        self._entries = dict(entries)
        self.locale = locale

    @classmethod
    def load(cls, locale: str, folders: Iterable[Path] = ()) -> Texts:
        entries: dict[str, str] = {}
        for folder in (ENGINE_CATALOGS, *folders):
            path = folder / f"{locale}.yaml"
            if path.exists():
                _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")) or {}, entries)
        if not entries:
            raise LookupError(f"no texts for locale {locale!r}")
        return cls(entries, locale)

    def __call__(self, key: str, **values: Any) -> str:
        try:
            template = self._entries[key]
        except KeyError:
            raise KeyError(f"text {key!r} is missing from the {self.locale} catalog") from None
        return template.format(**values) if values else template

    def has(self, key: str) -> bool:
        return key in self._entries

    def variants(self, key: str) -> list[str]:
        """Comma-separated word lists (global words like «отмена, cancel»), lower-cased."""
        return [word.strip().lower() for word in self(key).split(",") if word.strip()]
