"""Flows that exist only for the engine's tests: a three-step survey, a leaders-only flow,
a flow that crashes, a slow one, and events the database refuses."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from fsm_bot.engine import Context, Flow, Role, Transition

survey = Flow(
    name="survey",
    description="help.description",
    triggers=["опрос"],
    states=["name", "age", "confirm"],
    transitions=[
        Transition("named", "name", "age"),
        Transition("aged", "age", "confirm", when=lambda ctx: ctx.data.get("age", 0) >= 16),
        Transition("edit", "confirm", "name"),
    ],
    in_menu=False,
)


@survey.asks("name")
def ask_name(ctx: Context) -> None:
    ctx.ask("Как вас зовут?")


@survey.receives("name")
def got_name(ctx: Context) -> None:
    ctx.data["name"] = ctx.text
    ctx.go("named")


@survey.asks("age")
def ask_age(ctx: Context) -> None:
    ctx.ask("Сколько вам лет?")


@survey.receives("age")
def got_age(ctx: Context) -> None:
    if not ctx.text.isdigit():
        ctx.reply("Нужно число.")
        return
    ctx.data["age"] = int(ctx.text)
    ctx.go("aged")
    if ctx.data["age"] < 16:
        ctx.reply("Опрос для тех, кому 16 и больше.")


@survey.asks("confirm")
def ask_confirm(ctx: Context) -> None:
    ctx.ask(
        f"{ctx.data['name']}, {ctx.data['age']}. Верно?",
        [[ctx.option("Да", "yes", "positive"), ctx.option("Изменить", "edit"), ctx.option("Ок", "ok", callback=True)]],
    )


@survey.receives("confirm")
def confirmed(ctx: Context) -> None:
    if ctx.button == "edit":
        ctx.go("edit")
    elif ctx.button == "ok":
        ctx.snackbar("Принято")
        ctx.finish(f"Спасибо, {ctx.data['name']}!")
    elif ctx.button == "yes":
        ctx.finish(f"Спасибо, {ctx.data['name']}!")
    else:
        ctx.enter("confirm")


leaders_only = Flow(
    name="leaders_only",
    description="help.description",
    triggers=["секрет"],
    role=Role.HEADMAN,
    menu_label="help.button",
)


@leaders_only.on_start
def reveal(ctx: Context) -> None:
    ctx.finish("Секрет для старост")


crash = Flow(name="crash", description="help.description", triggers=["сломайся"], in_menu=False)


@crash.on_start
def explode(ctx: Context) -> None:
    raise RuntimeError("flow bug")


slow = Flow(name="slow", description="help.description", triggers=["медленно"], in_menu=False)


@slow.on_start
def take_time(ctx: Context) -> None:
    time.sleep(2.0)  # the behaviour under test: a handler this slow must not hold up anyone else
    ctx.finish("Готово, медленно")


remind = Flow(name="remind", description="help.description", triggers=["напомни"], in_menu=False)


@remind.on_start
def remind_later(ctx: Context) -> None:
    ctx.schedule_message(ctx.member.vk_id, "Напоминание: пара через 15 минут", datetime.now(UTC) + timedelta(seconds=3))
    ctx.finish("Хорошо, напомню через 3 секунды")


# --- poison: events whose statements the database refuses, raised for real on each backend

refused = Flow(name="refused", description="help.description", triggers=["испорти"], in_menu=False)


@refused.on_start
def break_a_constraint(ctx: Context) -> None:
    """A bug that makes the database refuse this event's statement (IntegrityError on both backends)."""
    session = ctx.services._session  # a test flow reaching past the services on purpose
    session.execute(text("INSERT INTO community (id) VALUES (:id)"), {"id": ctx.services._community_id})
    ctx.finish("Не должно дойти")


stuck = Flow(name="stuck", description="help.description", triggers=["зависни"], in_menu=False)


@stuck.on_start
def fail_like_an_outage(ctx: Context) -> None:
    """An error of an outage's class (OperationalError) that only this event meets, every time,
    while the database answers everyone else: what a future misclassification would look like.
    PostgreSQL cancels the statement (QueryCanceled); SQLite finds its file locked by another
    connection and is told not to wait."""
    session = ctx.services._session
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SET LOCAL statement_timeout = 1"))
        session.execute(text("SELECT pg_sleep(0.05)"))
        return
    raw = session.connection().connection.dbapi_connection
    path = session.execute(text("PRAGMA database_list")).fetchone()[2]
    # Never waits: in a batch the lock may be this very event's transaction's (its batch flushed earlier
    # events' writes), and waiting for it would stall everyone for the timeout; busy, it fails at once, the
    # same OperationalError this flow is here to raise.
    holder = sqlite3.connect(path, timeout=0)
    try:
        try:
            holder.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as busy:  # as SQLAlchemy would have raised it on the session
            raise OperationalError("BEGIN IMMEDIATE", {}, busy) from busy
        raw.execute("PRAGMA busy_timeout=0")
        session.execute(text("UPDATE community SET id = id WHERE id = :id"), {"id": ctx.services._community_id})
    finally:
        raw.execute("PRAGMA busy_timeout=5000")
        holder.rollback()
        holder.close()
