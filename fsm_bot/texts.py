"""Texts users read, from a catalog per locale, never from handlers.

Catalogs are YAML files in `fsm_bot/locales/` (the engine's words) and in `flows/locales/` (each dialog's
words): `<locale>.yaml` or any `*.yaml` in a `<locale>/` folder (one file per dialog, so a dialog's words sit
together), merged into one flat key space: `menu.title`, `broadcast.ask_text`. A missing key is a bug in our
code, so it raises, and tests catch it, rather than showing a student "broadcast.ask_text".

A sentence that changes with a number or a person is one entry with its variants, chosen here, not in code:

    delivered:                      # CLDR plural categories, picked with Babel's rules for the locale
      one: "Получил {count} участник"
      few: "Получили {count} участника"
      many: "Получили {count} участников"
      other: "Получили {count} участника"
    will_confirm:                   # a person's gender, from VK's `sex` (1 female, 2 male, 0 unknown)
      female: "Я напишу, когда она подтвердит."
      male: "Я напишу, когда он подтвердит."
      other: "Я напишу, когда староста подтвердит."

The number is the `count` value and the person the `sex` value unless the entry names another with `by:`;
variants nest (a gender's variant may be plural forms). Russian needs one/few/many, English one/other; a
locale's catalog lists the categories its language has (tests/test_texts.py checks that).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Union

import yaml
from babel import Locale

ENGINE_CATALOGS = Path(__file__).parent / "locales"
LOCALES = ("ru", "en")  # the languages the bot speaks; settings' `locale` picks the default among them
PLURAL_FORMS = frozenset({"zero", "one", "two", "few", "many", "other"})
GENDER_FORMS = frozenset({"female", "male"})
SELECTOR = "by"
# VK's users.get `sex`: 1 female, 2 male, 0 not given.
SEX_FORMS = {1: "female", 2: "male"}
# VK's client_info.lang_id on a message: the language of the person's app.
VK_LANGUAGES = {0: "ru", 3: "en"}

Entry = Union[str, "Variants"]


class Variants:
    """An entry whose wording depends on a number (plural forms) or a person (gender)."""

    def __init__(self, forms: Mapping[str, Entry], selector: str | None) -> None:
        self.forms = dict(forms)
        self.plural = not (self.forms.keys() & GENDER_FORMS)
        self.selector = selector or ("count" if self.plural else "sex")

    def pick(self, locale: Locale, values: Mapping[str, Any]) -> str:
        value = values.get(self.selector)
        if self.plural:
            if not isinstance(value, int | float | Decimal):
                raise TypeError(f"plural text needs a number in {{{self.selector}}}, got {value!r}")
            form = locale.plural_form(value)
        else:
            form = SEX_FORMS.get(value, "other") if isinstance(value, int) else str(value or "other")
        chosen = self.forms.get(form, self.forms.get("other"))
        if chosen is None:
            raise KeyError(f"no {form!r} or 'other' form")
        return chosen if isinstance(chosen, str) else chosen.pick(locale, values)

    def templates(self) -> list[str]:
        return [t for form in self.forms.values() for t in ([form] if isinstance(form, str) else form.templates())]


def _is_variants(tree: Mapping[str, Any]) -> bool:
    keys = set(tree) - {SELECTOR}
    return bool(keys) and "other" in keys and keys <= PLURAL_FORMS | GENDER_FORMS


def _variants(tree: Mapping[str, Any]) -> Variants:
    forms: dict[str, Entry] = {}
    for form, value in tree.items():
        if form == SELECTOR:
            continue
        forms[form] = _variants(value) if isinstance(value, Mapping) else str(value)
    selector = tree.get(SELECTOR)
    return Variants(forms, str(selector) if selector else None)


def _flatten(prefix: str, tree: Mapping[str, Any], into: dict[str, Entry]) -> None:
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and _is_variants(value):
            into[name] = _variants(value)
        elif isinstance(value, Mapping):
            _flatten(name + ".", value, into)
        else:
            into[name] = str(value)


def catalog_files(folder: Path, locale: str) -> list[Path]:
    """A folder's files for a locale: `<locale>.yaml`, then `<locale>/*.yaml` in name order."""
    files = [folder / f"{locale}.yaml"] if (folder / f"{locale}.yaml").exists() else []
    if (folder / locale).is_dir():
        files += sorted((folder / locale).glob("*.yaml"))
    return files


class Texts:
    """One locale's catalog."""

    def __init__(self, entries: Mapping[str, Entry | str], locale: str, fallback: Texts | None = None) -> None:
        """`fallback`: where a key this catalog lacks is read instead (the default language), so a dialog a
        deployment added with Russian words only still answers an English reader; ours are complete
        (tests/test_texts.py)."""
        self._entries = dict(entries)
        self.locale = locale
        self.fallback = fallback

    @classmethod
    def load(cls, locale: str, folders: Iterable[Path] = (), fallback: Texts | None = None) -> Texts:
        entries: dict[str, Entry] = {}
        for folder in (ENGINE_CATALOGS, *folders):
            for path in catalog_files(folder, locale):
                _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")) or {}, entries)
        if not entries:
            raise LookupError(f"no texts for locale {locale!r}")
        return cls(entries, locale, fallback)

    @cached_property
    def _babel(self) -> Locale:
        return Locale.parse(self.locale)

    def __call__(self, key: str, **values: Any) -> str:
        entry = self._entries.get(key)
        if entry is None:
            if self.fallback is not None and self.fallback.has(key):
                return self.fallback(key, **values)
            raise KeyError(f"text {key!r} is missing from the {self.locale} catalog")
        template = entry if isinstance(entry, str) else entry.pick(self._babel, values)
        return template.format(**values) if values else template

    def has(self, key: str) -> bool:
        return key in self._entries or (self.fallback is not None and self.fallback.has(key))

    def own(self, key: str) -> bool:
        """Whether this locale's catalog itself has the key (not its fallback)."""
        return key in self._entries

    def keys(self) -> list[str]:
        return list(self._entries)

    def templates(self, key: str) -> list[str]:
        """Every wording of an entry (all its variants), for checks across locales."""
        entry = self._entries[key]
        return [entry] if isinstance(entry, str) else entry.templates()

    def plural_forms(self, key: str) -> set[str] | None:
        entry = self._entries[key]
        return set(entry.forms) if isinstance(entry, Variants) and entry.plural else None

    def variants(self, key: str) -> list[str]:
        """Comma-separated word lists (global words like «отмена, cancel»), lower-cased."""
        return [word.strip().lower() for word in self(key).split(",") if word.strip()]


class Catalogs:
    """Every locale's Texts: each person reads their own language, the settings' `locale` when theirs is not
    known; words people type (triggers, «отмена») are understood in every language at once."""

    def __init__(self, by_locale: Mapping[str, Texts], default: str) -> None:
        if default not in by_locale:
            raise LookupError(f"no texts for locale {default!r}")
        self._by_locale = dict(by_locale)
        self.default = by_locale[default]

    @classmethod
    def load(cls, default: str, folders: Iterable[Path] = ()) -> Catalogs:
        folders = [ENGINE_CATALOGS, *folders]
        found = [locale for locale in LOCALES if any(catalog_files(folder, locale) for folder in folders)]
        if default not in found:
            raise LookupError(f"no texts for locale {default!r}")
        first = Texts.load(default, folders[1:])
        others = {locale: Texts.load(locale, folders[1:], fallback=first) for locale in found if locale != default}
        return cls({default: first, **others}, default)

    def __call__(self, key: str, **values: Any) -> str:
        """The default language's text: where no one person is addressed (logs, files for the operator)."""
        return self.default(key, **values)

    @property
    def locales(self) -> list[str]:
        return list(self._by_locale)

    def __getitem__(self, locale: str | None) -> Texts:
        """The catalog for a person's locale (None or unknown: the default)."""
        return self._by_locale.get(locale or "", self.default)

    def words(self, key: str) -> list[str]:
        """`variants` of a key in every language that has it; none has it: no words."""
        return self.variants(key) if any(texts.has(key) for texts in self._by_locale.values()) else []

    def variants(self, key: str) -> list[str]:
        """A word list in every language, the default's first."""
        words: list[str] = []
        for texts in (self.default, *self._by_locale.values()):
            if texts.own(key):
                words += [word for word in texts.variants(key) if word not in words]
        return words


def locale_of_lang_id(lang_id: Any) -> str | None:
    """The locale of VK's `client_info.lang_id`, if the bot speaks it."""
    return VK_LANGUAGES.get(lang_id) if isinstance(lang_id, int) else None


def as_catalogs(texts: Texts | Catalogs) -> Catalogs:
    """Catalogs from either: one Texts is a bot that speaks only its language (tests, tools)."""
    return texts if isinstance(texts, Catalogs) else Catalogs({texts.locale: texts}, texts.locale)
