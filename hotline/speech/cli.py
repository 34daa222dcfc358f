"""`hotline asr check [FOLDER]`, `hotline asr fetch small-cn|cn`, `hotline asr grammar`,
`hotline asr transcribe FILE.wav`."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hotline.config import Settings
from hotline.errors import SpeechModelError
from hotline.speech.fetch import MODELS, fetch_model
from hotline.speech.model_check import check_model


def register(sub: Any) -> None:
    asr = sub.add_parser("asr", help="speech models: check, fetch, grammar, transcribe")
    cmds = asr.add_subparsers(dest="asr_command", required=True)
    check = cmds.add_parser("check", help="validate a Vosk model folder and load it")
    check.add_argument("folder", nargs="?", help="default: HOTLINE_VOSK_MODEL")
    check.set_defaults(handler=_check)
    fetch = cmds.add_parser("fetch", help="download and verify a Vosk Chinese model")
    fetch.add_argument("model", choices=sorted(MODELS))
    fetch.add_argument("--dest", help="default: $HOTLINE_HOME/models")
    fetch.add_argument("--url", help="where model-list.json and the archives are "
                       "(default: HOTLINE_VOSK_MODELS_URL)")
    fetch.add_argument("--force", action="store_true", help="download even if present")
    fetch.set_defaults(handler=_fetch)
    grammar = cmds.add_parser("grammar", help="write a phrase list from the directory")
    grammar.add_argument("--out", required=True)
    grammar.set_defaults(handler=_grammar)
    transcribe = cmds.add_parser("transcribe", help="run the streaming recogniser on a file")
    transcribe.add_argument("file", help="any audio sox reads")
    transcribe.set_defaults(handler=_transcribe)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.speech.model_check import load_model

    folder = args.folder or settings.vosk_model
    info = check_model(folder)
    started = time.perf_counter()
    load_model(info)
    graph = "lookahead (grammar supported)" if info.dynamic_graph else "static HCLG"
    print(f"{info.path}: ok: {info.sample_rate} Hz, {graph}, "
          f"{'ivector, ' if info.ivector else ''}{info.size_mb} MB, "
          f"loaded in {time.perf_counter() - started:.1f} s")
    return 0


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    dest = Path(args.dest) if args.dest else settings.home / "models"
    bar = tqdm(unit="B", unit_scale=True, desc=MODELS[args.model], disable=None)

    def progress(got: int, total: int) -> None:
        bar.total = total
        bar.update(got - bar.n)

    try:
        info = fetch_model(args.model, dest, args.url or settings.vosk_models_url,
                           force=args.force, progress=progress)
    finally:
        bar.close()
    print(f"{info.path}: verified ({info.size_mb} MB). Use it with:\n"
          f"  export HOTLINE_VOSK_MODEL={info.path.resolve()}")
    return 0


def _grammar(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.directory.importer import load_entries
    from hotline.speech.grammar import directory_phrases
    from hotline.store.database import Database

    async def entries() -> list[Any]:
        db = Database(settings.effective_db_url)
        try:
            return list(await load_entries(db))
        finally:
            await db.close()

    phrases = directory_phrases(asyncio.run(entries()))
    Path(args.out).write_text("\n".join([*phrases, "[unk]"]) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(phrases)} phrases; set HOTLINE_VOSK_GRAMMAR={args.out}")
    return 0


def _transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.speech.engine import VoskEngine
    from hotline.speech.grammar import read_grammar
    from hotline.speech.stream import SpeechStream

    grammar = read_grammar(settings.vosk_grammar) if settings.vosk_grammar else []
    engine = VoskEngine(settings.vosk_model, grammar=grammar, threads=2)
    try:
        pcm = subprocess.run(
            ["sox", args.file, "-r", str(engine.rate), "-b", "16", "-e", "signed", "-c", "1",
             "-L", "-t", "raw", "-", "pad", "0", "1"],
            capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SpeechModelError(f"{args.file}: sox cannot read it: {exc}") from exc

    async def run() -> None:
        stream = SpeechStream(engine, await engine.new_transcriber())
        stream.start()
        stream.push(pcm)
        await stream.drain()
        await stream.stop()
        while not stream.finals.empty():
            u = stream.finals.get_nowait()
            print(f"{u.start_s:6.2f}-{u.end_s:6.2f}  {u.text}")

    asyncio.run(run())
    engine.close()
    sys.stdout.flush()
    return 0
