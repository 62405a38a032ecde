"""The ``credit-search`` command: the indexer's commands plus serve and demo."""

from __future__ import annotations

import typer

from indexer.cli import register

app = typer.Typer(help="credit-search：公共信用信息检索服务", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
register(app)


def main() -> None:
    """Console-script entry point."""
    app()
