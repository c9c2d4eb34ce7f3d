"""The tests' one vocabulary: every test module imports its helpers from here, never from another test.

- bots: `start_bot` / `bot_process` (fixtures, offered by tests/conftest.py), TEST_FLOWS, BotProcess, fsm_bot.
- people: `enrolled` (a member with a role, in a group), `newcomer`, `enrol`, `member`, `seed_group`.
- talk: `say`, `press` (each returns the bot's answers), `toggle`, `bot_messages`, `dialog_of`, `onboard`.
- waiting: `wait_until` (and `wait_for` for a value), and `settled`: the barrier before asserting
  "never twice" or "nothing else" (inbox handled, outboxes drained, nothing due, the sandbox quiet).
- person: `Person`, who waits for each of their actions to be finished (tests/walk).
- broadcasts, week (a semester around today), autumn (autumn 2026, for the reminder jobs), walk,
  vk (a sample envelope, the inbox rows), cluster (several bot processes on PostgreSQL).
- fake_services: one flow step on its own, with a FakeServices and no database (tests/flows).
"""
