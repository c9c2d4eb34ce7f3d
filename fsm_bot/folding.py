"""Text as Russian readers compare it: case and ё/е ignored.

Russian print writes «е» for «ё» more often than not (Правила русской орфографии, 1956, § 10: «ё» is
required only where a word would be misread), so «Семенов» and «Семёнов», «четная» and «чётная» are
the same word to the person typing. Free of the rest of the bot, so every floor may use it.
"""

from __future__ import annotations


def fold(text: str) -> str:
    """`text` for comparing and sorting: case folded, «ё» read as «е»."""
    return text.casefold().replace("ё", "е")
