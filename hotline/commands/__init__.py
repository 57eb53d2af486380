"""Sub-commands of `hotline` (see hotline/cli.py for the contract)."""
