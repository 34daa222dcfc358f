"""`hotline prompts build`: render the phrasebook to 8 kHz and 16 kHz audio."""

from __future__ import annotations

import argparse
import time

from hotline.config import Settings
from hotline.prompts.library import PromptLibrary


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("prompts", help="render the phrasebook to audio")
    p.add_argument("action", choices=["build", "check"])
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    lib = PromptLibrary.from_settings(settings)
    if args.action == "check":
        print(f"phrasebook OK: {len(lib.phrasebook.phrases)} phrases")
        return 0
    started = time.monotonic()
    report = lib.build()
    print(f"prompts: {report.rendered} rendered, {report.cached} unchanged, "
          f"{report.recorded} from recordings, {report.skipped_templated} rendered at call "
          f"time; {time.monotonic() - started:.1f} s -> {lib.cache}")
    return 0
