"""The engine: inbox, dispatcher, per-user state machines and the context flows receive.

What a flow module imports from here is the flow author's whole API: Flow, Transition, Context,
Role, the guards a Flow `needs` (Need, member_need, in_study_group), the widgets (fsm_bot.engine.widgets), and
Forbidden for a step that checks a finer privilege itself, KeyboardButton to annotate rows of buttons (and
`shorten`, `MAX_LABEL` for a label whose one part must survive VK's 40 characters whole), and Texts
(what `ctx.t` and `ctx.t_for` give) to annotate a catalog passed along.
"""

from fsm_bot.engine.context import Context
from fsm_bot.engine.flow import Flow, Need, Transition, Unsaved, in_study_group, member_need
from fsm_bot.members.roles import Forbidden
from fsm_bot.storage.models import Role
from fsm_bot.texts import Texts
from fsm_bot.vk.keyboards import MAX_LABEL, KeyboardButton, shorten

__all__ = [
    "MAX_LABEL",
    "Context",
    "Flow",
    "Forbidden",
    "KeyboardButton",
    "Need",
    "Role",
    "Texts",
    "Transition",
    "Unsaved",
    "in_study_group",
    "member_need",
    "shorten",
]
