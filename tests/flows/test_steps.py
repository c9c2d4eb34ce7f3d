"""Single dialog steps, run on their own: a Context with fake services, no database, no VK, no thread.

Each test reads as one moment of a dialog: "Anna, asked for her real name, types «Иванов ²»" and
checks what the step answers and where the dialog would go. The whole dialogs are walked end to end
elsewhere (tests/walk, tests/engine); these pin a step's own rules, quickly.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows import broadcast, onboarding, reminders
from fsm_bot.engine.context import effects_of
from fsm_bot.members.roles import Forbidden
from fsm_bot.services.timetable import SubscriptionKind
from fsm_bot.storage.models import Role
from tests.support.fake_services import (
    ANNA,
    TEXTS,
    FakeBroadcasts,
    FakeServices,
    FakeTimetable,
    answers,
    asks,
    labels_of,
    texts_of,
)

HEADMAN = replace(ANNA, vk_id=1002, first_name="Ольга", last_name="Старостина", role=Role.HEADMAN)


# --- onboarding: the real name


@pytest.mark.parametrize("typed", ["Иванов ²", "Иванов", "Иванов 2", "  ", "Иванов <b>Иван</b>"])
def test_a_name_that_is_not_two_words_of_letters_is_refused_and_the_step_stays(typed: str) -> None:
    ctx = answers(onboarding.flow, "fix_name", typed, data={"group": "ИВТ-101"})
    assert texts_of(ctx) == [TEXTS("onboarding.name_format")]
    assert (effects_of(ctx).trigger, effects_of(ctx).target_state, effects_of(ctx).finished) == (None, None, False)
    assert "last_name" not in ctx.data


def test_a_name_typed_in_lower_case_is_kept_as_the_register_shows_it() -> None:
    ctx = answers(onboarding.flow, "fix_name", "белова-петрова ксения", data={"group": "ИВТ-101"})
    assert texts_of(ctx) == []
    assert (ctx.data["last_name"], ctx.data["first_name"]) == ("Белова-Петрова", "Ксения")
    assert effects_of(ctx).trigger == "fixed"  # back to «Верно?» with the new name


def test_choosing_a_group_by_its_button_moves_on_and_remembers_the_name_vk_gave() -> None:
    services = FakeServices(groups=["ИВТ-101", "ПМИ-101"])
    ctx = answers(onboarding.flow, "group", button="ПМИ-101", services=services)
    assert ctx.data == {"group": "ПМИ-101", "first_name": "Анна", "last_name": "Смирнова"}
    assert effects_of(ctx).trigger == "chosen"


def test_the_group_question_offers_the_groups_as_buttons_or_asks_to_type_when_there_are_too_many() -> None:
    few = asks(onboarding.flow, "group", services=FakeServices(groups=["ИВТ-101", "ПМИ-101"]))
    [question] = effects_of(few).replies
    assert question.text == TEXTS("onboarding.ask_group")
    assert labels_of(question) == ["ИВТ-101", "ПМИ-101", "Назад", "Отмена"]
    many = asks(onboarding.flow, "group", services=FakeServices(groups=[f"Г-{n}" for n in range(11)]))
    [typed] = effects_of(many).replies
    assert typed.text == TEXTS("onboarding.type_group") and labels_of(typed) == ["Назад", "Отмена"]


# --- broadcast: the audience


def test_a_headman_is_offered_the_group_its_subgroups_picking_and_the_admins_but_not_the_stream() -> None:
    services = FakeServices(broadcasts=FakeBroadcasts(subgroup_numbers=[1, 2]))
    [question] = effects_of(asks(broadcast.flow, "audience", member=HEADMAN, services=services)).replies
    assert question.text == TEXTS("broadcast.ask_audience")
    assert labels_of(question) == [
        "Моей группе (ИВТ-101)",
        "Подгруппе 1",
        "Подгруппе 2",
        "Выбрать студентов",
        "Администраторам",
        "Назад",
        "Отмена",
    ]


def test_a_subgroup_button_sets_the_audience_and_its_label() -> None:
    ctx = answers(broadcast.flow, "audience", button=("sub", 2), member=HEADMAN)
    assert ctx.data == broadcast.Draft(audience="subgroup", subgroup=2, label="ИВТ-101/2")
    assert effects_of(ctx).trigger == "chosen"


@pytest.mark.parametrize("forged", ["sub:2", ("sub", 0), ("sub", 100), ("sub", "2"), ("sub", 2, 2), "everyone"])
def test_a_forged_audience_asks_again_and_sets_nothing(forged: str | tuple[str | int, ...]) -> None:
    ctx = answers(broadcast.flow, "audience", button=forged, member=HEADMAN)
    assert (
        ctx.data == broadcast.Draft() and effects_of(ctx).target_state == "audience" and effects_of(ctx).trigger is None
    )


def test_the_whole_stream_is_refused_to_a_headman() -> None:
    with pytest.raises(Forbidden):
        answers(broadcast.flow, "audience", button="stream", member=HEADMAN)


# --- reminders: minutes before class


@pytest.mark.parametrize("typed", ["0", "241", "²", "тридцать", ""])
def test_minutes_out_of_range_or_not_a_number_are_refused_and_nothing_is_saved(typed: str) -> None:
    services = FakeServices()
    ctx = answers(reminders.flow, "lead", typed, data={"kind": "before_each"}, services=services)
    assert texts_of(ctx) == [TEXTS("reminders.bad_lead")]
    assert services.timetable.subscribed == [] and effects_of(ctx).trigger is None


def test_a_lead_button_saves_the_subscription_and_goes_back_to_the_menu() -> None:
    services = FakeServices(timetable=FakeTimetable())
    ctx = answers(reminders.flow, "lead", button="30", data={"kind": "before_each"}, services=services)
    [saved] = services.timetable.subscribed
    assert (saved.kind, saved.lead_minutes) == (SubscriptionKind.BEFORE_EACH, 30)
    assert texts_of(ctx) == [TEXTS("reminders.saved_before_each", minutes=30)]
    assert effects_of(ctx).trigger == "saved"


def test_the_lead_question_offers_the_usual_minutes() -> None:
    [question] = effects_of(asks(reminders.flow, "lead")).replies
    assert labels_of(question) == ["5 мин.", "10 мин.", "15 мин.", "30 мин.", "60 мин.", "Назад", "Отмена"]
