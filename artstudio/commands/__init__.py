"""One module per `artstudio COMMAND`: `add_arguments(parser)` and `run(args) -> int`."""
