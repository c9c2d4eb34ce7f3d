#!/bin/sh
# Install the bot from the source tree $1 into the current Python (the image's, or a venv's), without the test
# extra, and check that the command starts. deploy/Dockerfile runs it; .ci/run runs it in a clean venv.
set -eu
python -m pip install --no-cache-dir --quiet "${1:-.}"
fsm-bot --version
