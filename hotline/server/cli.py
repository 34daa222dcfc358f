"""`hotline serve`."""

from __future__ import annotations

import argparse

from hotline.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the call controller and the web console")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.server.root import serve

    return serve(settings)
