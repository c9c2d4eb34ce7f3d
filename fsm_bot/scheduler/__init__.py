"""APScheduler in the bot: jobs persisted in the bot's own database, so they survive restarts."""

from fsm_bot.scheduler.runtime import BotScheduler, register_job_target

__all__ = ["BotScheduler", "register_job_target"]
