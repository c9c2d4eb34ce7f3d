"""read_attachments: a student's media becomes messages.send's `attachment` list, and nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from fsm_bot.vk.attachments import read_attachments


def doc(**fields: Any) -> dict[str, Any]:
    return {"type": "doc", "doc": {"id": 456239017, "owner_id": 51422811, "title": "lab1.pdf", **fields}}


def test_a_headman_forwards_a_photo_a_private_doc_and_a_link() -> None:
    photo = {"type": "photo", "photo": {"id": 457239018, "owner_id": -123456, "access_key": "a1b2c3d4e5f6"}}
    link = {"type": "link", "link": {"url": "https://example.org/schedule"}}
    sticker = {"type": "sticker", "sticker": {"sticker_id": 9}}

    media = read_attachments([photo, doc(access_key="0f_9-Z"), link, sticker])

    assert media.strings == ("photo-123456_457239018_a1b2c3d4e5f6", "doc51422811_456239017_0f_9-Z")
    assert media.links == ("https://example.org/schedule",)
    assert media.unsupported == ("sticker",)


def test_ids_sent_as_ascii_digit_strings_are_read() -> None:
    media = read_attachments([doc(id="456239017", owner_id="-51422811")])
    assert media.strings == ("doc-51422811_456239017",)


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "1,wall1_1"},  # a second attachment smuggled into the comma-separated list
        {"owner_id": "1,wall1_1"},
        {"access_key": "abc,wall1_1"},
        {"access_key": "abc_1,photo1_2"},
        {"id": "1_2"},
        {"owner_id": "1_2"},
        {"id": " 7"},
        {"id": "١٢"},  # Arabic-Indic digits: int() reads them, VK would not
        {"id": "²"},
        {"id": True},
        {"owner_id": False},
        {"id": -5},
        {"id": 2**63},
        {"owner_id": -(2**63)},
        {"id": 10**40},
        {"id": 1.5},
        {"id": None},
        {"id": [1]},
        {"access_key": 12345},
        {"access_key": "k" * 65},
        {"access_key": "ключ"},
    ],
)
def test_an_attachment_with_a_part_of_the_wrong_shape_is_not_sent_on(fields: dict[str, Any]) -> None:
    media = read_attachments([doc(**fields), doc(id=1)])
    assert media.strings == ("doc51422811_1",)
    assert media.unsupported == ("doc",)


def test_an_empty_access_key_is_no_access_key() -> None:
    assert read_attachments([doc(access_key=""), doc(access_key=None)]).strings == ("doc51422811_456239017",) * 2
