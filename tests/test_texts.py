"""The catalogs agree with each other: every language the bot speaks has every text, with the same {placeholders},
the plural forms its own language has, and dashes where a dash belongs (fsm_bot/texts.py)."""

from __future__ import annotations

import re
from itertools import permutations
from pathlib import Path
from string import Formatter

import pytest
from babel import Locale

import flows
from fsm_bot.texts import ENGINE_CATALOGS, LOCALES, Catalogs, Texts, Variants, catalog_files

FLOW_CATALOGS = Path(flows.__file__).parent / "locales"  # as the bot loads them (runtime/bot.py)
FOLDERS = (ENGINE_CATALOGS, FLOW_CATALOGS)
# Each locale alone, without the default language that fills its gaps at run time: a gap is what we look for.
TEXTS = {locale: Texts.load(locale, [FLOW_CATALOGS]) for locale in LOCALES}
KEYS = {locale: texts.keys() for locale, texts in TEXTS.items()}
# Texts that name the hyphen itself, as a character one may type (setup.bad_name lists «- _ . , / …»).
HYPHEN_ITSELF = {"setup.bad_name"}


def texts(locale: str) -> Texts:
    return TEXTS[locale]


def placeholders(template: str) -> set[str]:
    """The names a template formats: «{first:%d.%m}» is `first`."""
    return {re.split(r"[.\[]", name)[0] for _, name, _, _ in Formatter().parse(template) if name is not None}


def plural_categories(locale: str) -> set[str]:
    """The CLDR categories a language uses for whole numbers, and `other`, which every plural entry needs."""
    babel = Locale.parse(locale)
    return {babel.plural_form(number) for number in range(201)} | {"other"}


def plural_entries(entry: Variants | str) -> list[Variants]:
    """An entry's plural forms, also those nested in a gender's variant."""
    if isinstance(entry, str):
        return []
    found = [entry] if entry.plural else []
    return found + [inner for form in entry.forms.values() for inner in plural_entries(form)]


def file_names(folder: Path, locale: str) -> set[str]:
    """A folder's catalog files for a locale, named the same whatever the locale: «*.yaml» and «<locale>/x.yaml»."""
    return {"*.yaml" if path.parent == folder else path.name for path in catalog_files(folder, locale)}


def test_the_bot_has_a_catalog_for_every_language_it_speaks() -> None:
    assert sorted(Catalogs.load("ru", [FLOW_CATALOGS]).locales) == sorted(LOCALES)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.parent.name)
def test_every_locale_has_the_same_catalog_files(folder: Path) -> None:
    names = {locale: file_names(folder, locale) for locale in LOCALES}
    for first, second in permutations(LOCALES, 2):
        assert names[first] <= names[second], f"{folder}: {first} files missing in {second}"


@pytest.mark.parametrize(("locale", "other"), list(permutations(LOCALES, 2)))
def test_every_key_is_in_every_locale(locale: str, other: str) -> None:
    missing = sorted(set(KEYS[locale]) - set(KEYS[other]))
    assert missing == [], f"keys of the {locale} catalog missing from {other}"


def test_placeholders_are_the_same_in_every_locale() -> None:
    differ = {}
    for key in KEYS[LOCALES[0]]:
        names = {
            locale: set().union(*map(placeholders, texts(locale).templates(key)))
            for locale in LOCALES
            if texts(locale).has(key)
        }
        if len(set(map(frozenset, names.values()))) > 1:
            differ[key] = {locale: sorted(found) for locale, found in names.items()}
    assert differ == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_entries_list_the_categories_of_their_language(locale: str) -> None:
    catalog = texts(locale)
    expected = plural_categories(locale)
    wrong = {
        key: sorted(plural.forms)
        for key in KEYS[locale]
        for plural in plural_entries(catalog._entries[key])
        if set(plural.forms) != expected
    }
    assert wrong == {}, f"{locale} plural entries need exactly {sorted(expected)}"


def test_plural_categories_are_those_of_the_language() -> None:
    assert plural_categories("ru") == {"one", "few", "many", "other"}
    assert plural_categories("en") == {"one", "other"}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_dash_between_words_is_a_dash_not_a_hyphen(locale: str) -> None:
    catalog = texts(locale)
    hyphens = {
        key: template
        for key in KEYS[locale]
        if key not in HYPHEN_ITSELF
        for template in catalog.templates(key)
        if " - " in template
    }
    assert hyphens == {}, "use «–» or «—» between words, not « - »"
