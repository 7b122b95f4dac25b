"""Sub-commands of the `semitrade` command line; each module has ``register(subparsers)``."""
