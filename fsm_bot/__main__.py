"""`python -m fsm_bot`: the `fsm-bot` command, for when the script is not on PATH (the workers' children)."""

import sys

from fsm_bot.cli import main

sys.exit(main())
