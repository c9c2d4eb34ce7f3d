"""Every text the code asks for exists in every language, and the catalogs hold no text nobody uses.

Keys are read from the source (fsm_bot/ and flows/, the sandbox aside: it is VK's side and speaks for it):
a call like `ctx.t("broadcast.ask_text")` names one; an f-string such as `f"roster.{error.key}"` names a family,
whose members count as used when the rest of the key is a string in the code (`"too_big"`) or the family is
two levels deep (`timetable.weekdays.`). A flow's `<name>.button`, `.triggers`, `.title` and `.description`
are read by the engine from the flow's name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from fsm_bot.texts import LOCALES, Texts

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = [ROOT / "flows" / "locales"]
BY_NAME = {"button", "triggers", "title", "description"}
TRANSLATORS = {"t", "texts", "translate", "_t"}
KEY = re.compile(r"[a-z_0-9]+(\.[a-z_0-9]+)+")
FAMILY = re.compile(r"[a-z_0-9]+\.([a-z_0-9]+\.)*[a-z_0-9_]*")


def _sources() -> list[Path]:
    return [
        path
        for folder in ("fsm_bot", "flows")
        for path in (ROOT / folder).rglob("*.py")
        if "sandbox" not in path.relative_to(ROOT).parts
    ]


def _scan() -> tuple[set[str], set[str], set[str]]:
    """(every string constant, f-string key prefixes, keys passed to a translator as a constant)."""
    strings: set[str] = set()
    families: set[str] = set()
    asked: set[str] = set()
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                prefix = str(node.values[0].value)
                if FAMILY.fullmatch(prefix):
                    families.add(prefix)
            elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                key = node.args[0].value
                if name in TRANSLATORS and isinstance(key, str) and KEY.fullmatch(key):
                    asked.add(key)
    return strings, families, asked


def _used(key: str, strings: set[str], families: set[str]) -> bool:
    if key in strings or key.split(".", 1)[1] in BY_NAME:
        return True
    for family in families:
        if key.startswith(family):
            rest = key[len(family) :]
            if rest in strings or rest.split(".")[0] in strings or family.count(".") >= 2:
                return True
    return False


def test_every_text_the_code_asks_for_is_in_every_language() -> None:
    _strings, _families, asked = _scan()
    assert len(asked) > 100  # the scan finds the calls at all
    for locale in LOCALES:
        texts = Texts.load(locale, FOLDERS)
        missing = sorted(key for key in asked if not texts.own(key))
        assert missing == [], f"{locale}: {missing}"


def test_no_text_in_the_catalogs_is_unused() -> None:
    strings, families, _asked = _scan()
    for locale in LOCALES:
        keys = Texts.load(locale, FOLDERS).keys()
        unused = sorted(key for key in keys if not _used(key, strings, families))
        assert unused == [], f"{locale}: {unused}"


def test_the_check_would_see_an_unused_text() -> None:
    strings, families, _asked = _scan()
    assert not _used("broadcast.no_such_text_anywhere", strings, families)
    assert _used("broadcast.ask_text", strings, families) or _used("help.header", strings, families)
