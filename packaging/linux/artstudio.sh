#!/bin/sh
# The `artstudio` command: the same command line as in a checkout (`artstudio --help`,
# `artstudio style ...`); with no command it opens the window.
exec /opt/artstudio/Artstudio "$@"
