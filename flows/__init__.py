"""Dialogs, one module each. A module exposes `flow`, a fsm_bot.engine.Flow; settings.yaml enables it by name."""
