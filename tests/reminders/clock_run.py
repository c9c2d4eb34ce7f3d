"""`fsm-bot` under a travelled clock: python -m tests.reminders.clock_run ISO-DATETIME fsm-bot-args...

For crash tests of time-activated jobs: the child process believes it is the evening the test chose,
and its clock ticks on from there, threads included (time-machine patches the clock functions).
"""

from __future__ import annotations

import sys
from datetime import datetime

import time_machine

from fsm_bot.cli import main

if __name__ == "__main__":
    with time_machine.travel(datetime.fromisoformat(sys.argv[1]), tick=True):
        sys.exit(main(sys.argv[2:]))
