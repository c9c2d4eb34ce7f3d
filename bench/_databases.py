"""A throwaway PostgreSQL schema for a benchmark run, reached through search_path (as the tests do)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fsm_bot.storage import normalize_url


def postgres_schema(server_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema reached through search_path, and a function that drops it."""
    server_url = normalize_url(server_url)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), drop


def postgres_reachable(server_url: str) -> str | None:
    """None when the server answers, else why not: a bench then skips PostgreSQL and says why in its report."""
    engine = create_engine(normalize_url(server_url))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as error:  # any failure means "no PostgreSQL", with the reason in the report
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    finally:
        engine.dispose()
