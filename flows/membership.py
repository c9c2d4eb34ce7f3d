"""A headman's (or deputy's) answer to a join request, from the buttons under the request.

The buttons are plain JSON anyone could forge, so the decision is checked here: the person who
pressed must lead the very group the newcomer asked to join, or be a stream admin.
"""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow, Forbidden, Role
from fsm_bot.services.inputs import unpacked

flow = Flow(
    name="membership",
    description="membership.description",
    role=Role.DEPUTY,
    in_menu=False,
)


@flow.on_start
def decide(ctx: Ctx) -> None:
    request = _request(ctx)
    if request is None:
        ctx.finish(ctx.t("membership.bad_request"))
        return
    vk_id, answer = request
    newcomer = ctx.services.member(vk_id)
    if newcomer is None or newcomer.status != "pending":
        ctx.finish(ctx.t("membership.already_decided"))
        return
    leads_that_group = ctx.member.study_group == newcomer.study_group and ctx.member.role in (Role.HEADMAN, Role.DEPUTY)
    if not leads_that_group and ctx.member.role is not Role.ADMIN:
        raise Forbidden(Role.HEADMAN)
    group = newcomer.study_group
    decided = ctx.services.decide_membership(newcomer.vk_id, approve=answer == "yes")
    assert decided is not None
    if answer == "yes":
        ctx.send_to(newcomer.vk_id, ctx.t_for(newcomer)("membership.welcome", group=group, sex=ctx.member.sex))
        ctx.finish(ctx.t("membership.approved", name=newcomer.full_name, group=group))
    else:
        ctx.send_to(newcomer.vk_id, ctx.t_for(newcomer)("membership.rejected_student", group=group))
        ctx.finish(ctx.t("membership.rejected", name=newcomer.full_name, group=group))


def _request(ctx: Ctx) -> tuple[int, str] | None:
    """The newcomer and the answer the pressed button carries: (vk id, "yes" or "no")."""
    match unpacked(ctx.choice):  # buttons sent before 2026-12 carried "<vk id>:yes"
        case (int(vk_id), "yes" | "no" as answer):
            return vk_id, answer
    return None
