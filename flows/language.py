"""«язык»: the language the bot speaks to this person, chosen with a button and remembered.

Until someone chooses, the bot follows their VK app's language (client_info.lang_id on their messages) and the
settings' `locale` when the app's is one it does not speak; «как в приложении» goes back to that.
"""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow

# The buttons show each language in itself, so a person who cannot read the current one still finds theirs.
CHOICES = (("ru", "Русский"), ("en", "English"))
FOLLOW_APP = "app"

flow = Flow(
    name="language",
    description="language.description",
    states=["choosing"],
    open_to_newcomers=True,
)


@flow.asks("choosing")
def ask_language(ctx: Ctx) -> None:
    buttons = [[ctx.option(label, locale, "primary") for locale, label in CHOICES]]
    buttons.append([ctx.option(ctx.t("language.follow_app"), FOLLOW_APP)])
    ctx.ask(ctx.t("language.ask"), buttons)


@flow.receives("choosing")
def choose(ctx: Ctx) -> None:
    choice = ctx.button
    if choice == FOLLOW_APP:
        ctx.services.set_locale(None)
        ctx.finish(ctx.t_for(ctx.member.app_locale)("language.follows_app"))
        return
    if choice not in {locale for locale, _label in CHOICES}:
        ctx.ask_again(ctx.t("language.use_buttons"))
        return
    ctx.services.set_locale(choice)
    ctx.finish(ctx.t_for(choice)("language.chosen"))
