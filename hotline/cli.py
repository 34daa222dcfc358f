"""The `hotline` command: parses arguments and hands each subcommand its settings."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from hotline.config import Settings, load_settings
from hotline.errors import HotlineError
from hotline.observability.logs import JsonFormatter
from hotline.privacy import MaskingFilter

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    from hotline.calls import chat_cli
    from hotline.directory import cli as directory_cli
    from hotline.duty import cli as duty_cli
    from hotline.inspection import cli as inspection_cli
    from hotline.knowledge import cli as knowledge_cli
    from hotline.prompts import cli as prompts_cli
    from hotline.reports import ledger as report_cli
    from hotline.sandbox import cli as sandbox_cli
    from hotline.seats import cli as seats_cli
    from hotline.server import cli as server_cli
    from hotline.server import doctor, privacy_cli
    from hotline.speech import cli as speech_cli
    from hotline.store import cli as store_cli
    from hotline.store.journal import cli as journal_cli
    from hotline.tickets import cli as tickets_cli
    from hotline.units import cli as units_cli
    from hotline.web import users_cli

    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (sandbox_cli, server_cli, store_cli, seats_cli, directory_cli,
                   prompts_cli, speech_cli, tickets_cli, report_cli, users_cli, doctor, chat_cli,
                   journal_cli, privacy_cli, inspection_cli, units_cli, duty_cli,
                   knowledge_cli):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(level=settings.log_level.upper(),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for h in logging.getLogger().handlers:  # masked numbers first, in every format
            h.addFilter(MaskingFilter())
            if settings.log_format == "json":
                h.setFormatter(JsonFormatter())
        handler: Handler = args.handler
        return handler(args, settings)
    except HotlineError as exc:
        print(f"hotline: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
