"""The `furusato` command: the operators' commands (cli/commands.py) and `furusato scenario`,
which plays conversations written as transcripts against the bot and runs those commands."""

from __future__ import annotations

import sys

from cli.commands import cli
from cli.scenario import scenario_cli

cli.add_command(scenario_cli)


def main() -> None:
    cli(prog_name="furusato")


if __name__ == "__main__":
    sys.exit(main())
