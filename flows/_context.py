"""The context every handler here receives, with what `ctx.services` is spelled out for the type checker.

The engine knows no features, so its `Context[D, S]` leaves the services open; the runtime hands flows a
`CommunityServices`. `Ctx[Draft]` reads "a context whose data is a Draft"; a bare `Ctx` is one with plain dict data.
The leading underscore keeps this module out of flow discovery: it holds no dialog.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from typing_extensions import TypeVar

from fsm_bot.engine import Context
from fsm_bot.services.community import CommunityServices

D = TypeVar("D", default=Any)
Ctx: TypeAlias = Context[D, CommunityServices]
