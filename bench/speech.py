"""Keyword recognition on telephone audio, through the real AudioSocket path of the controller.

Audio: espeak-ng speaks each demo keyword in several voices and speeds; sox takes it through the telephone
band and 8 kHz µ-law and back to signed linear (what Asterisk hands AudioSocket). Each utterance is streamed
in real time (20 ms frames) by a simulated AudioSocket channel into ``VoiceService.ask`` (server, VAD,
barge-in, recogniser in its worker threads), a few callers at once. Figures per engine, each in its own
process: accuracy per keyword, time from the end of the speech to the decision, memory before and after
loading the model.

    python -m bench.speech [--variants 5] [--speed 1.0] [--callers 3] [--compare]

``--compare`` runs each engine twice in the same invocation: without and with the second pass at the pause
(``vad.second_pass`` in voice.yaml), on the same audio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ivr.voice.config import VoiceConfig
from ivr.voice.engines import build
from ivr.voice.server import AudioSocketServer
from ivr.voice.service import Engine, VoiceService
from ivr.voice.testing import Caller, FakeAgi
from ivr.voice.vad import EnergyVad

SUITES: dict[str, dict[str, Any]] = {
    "pocketsphinx": {
        "language": "en",
        "voice": "en-us",
        "keywords": {"track": "tracking", "pickup": "pickup", "complaint": "complaint", "agent": "agent"},
        "yes_no": {"yes": "yes", "no": "no"},
    },
    "vosk": {
        "language": "ko",
        "voice": "ko",
        "keywords": {"배송 조회": "tracking", "택배 접수": "pickup", "불만": "complaint", "상담원": "agent"},
        "yes_no": {"네": "yes", "아니요": "no"},
    },
}
VARIANTS = [("", 150, 50), ("+f2", 130, 60), ("+m3", 170, 40), ("+f4", 140, 70), ("+m7", 160, 30), ("+f1", 180, 55)]
SILENCE_BEFORE, SILENCE_AFTER = 0.3, 0.8


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def telephone(text: str, voice: str, variant: tuple[str, int, int], tmp: Path) -> bytes:
    suffix, speed, pitch = variant
    raw, ulaw, slin = tmp / "raw.wav", tmp / "ulaw.wav", tmp / "slin.raw"
    subprocess.run(
        ["espeak-ng", "-v", voice + suffix, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text], check=True
    )
    subprocess.run(
        ["sox", str(raw), "-r", "8000", "-c", "1", "-e", "mu-law", str(ulaw), "sinc", "300-3400"],
        check=True,
        capture_output=True,
    )
    subprocess.run(["sox", str(ulaw), "-t", "raw", "-e", "signed-integer", "-b", "16", str(slin)], check=True)
    pcm = slin.read_bytes()
    return bytes(int(16000 * SILENCE_BEFORE)) + pcm + bytes(int(16000 * SILENCE_AFTER))


def last_voiced_frame(pcm: bytes) -> int:
    """Index of the last 20 ms frame the VAD calls speech: the end of the caller's speech."""
    vad, last = EnergyVad(), 0
    for i in range(0, len(pcm) - 319, 320):
        voiced, _ = vad.feed(pcm[i : i + 320])
        last = i // 320 if voiced else last
    return last


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


async def run_engine(
    engine: str, variants: int, speed: float, callers: int, second_pass: bool = True
) -> dict[str, Any]:
    suite = SUITES[engine]
    words = suite["keywords"] | suite["yes_no"]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cases = [(w, telephone(w, suite["voice"], v, tmp)) for w in words for v in VARIANTS[:variants]]
        silent_prompt = tmp / "prompt.sln"
        silent_prompt.write_bytes(bytes(3200))  # 0.2 s: the caller speaks after it, as after a beep
        before = rss_mb()
        rec = build(engine, suite["language"], None, decoders=callers)
        started = time.monotonic()
        rec.load()
        load_s = time.monotonic() - started
        after = rss_mb()
        server = AudioSocketServer("127.0.0.1", 0)
        await server.start()
        pool = ThreadPoolExecutor(2, thread_name_prefix="speech")
        config = VoiceConfig.model_validate({"languages": {}, "vad": {"second_pass": second_pass}})
        service = VoiceService(config, server, {suite["language"]: Engine(rec, state="ready")}, pool)
        results: list[dict[str, Any]] = []
        gate = asyncio.Semaphore(callers)

        async def one(word: str, pcm: bytes) -> None:
            # the question offers the four menu keywords, or yes/no, as the menu would
            keywords = suite["yes_no"] if word in suite["yes_no"] else suite["keywords"]
            async with gate:
                caller = Caller(audio=pcm, speed=speed)
                answer = await service.ask(
                    FakeAgi(caller), [str(silent_prompt.with_suffix(""))], keywords, "", suite["language"], 3.0
                )
                decided = time.monotonic()
            assert caller.started is not None
            speech_end = caller.started + (last_voiced_frame(pcm) + 1) * 0.02 / speed
            results.append(
                {
                    "word": word,
                    "expected": words[word],
                    "got": answer.option if answer.kind == "speech" else None,
                    "kind": answer.kind,
                    "confidence": answer.confidence,
                    "internal_ms": answer.ms_after_speech_end,
                    "external_ms": (decided - speech_end) * 1000,
                }
            )

        await asyncio.gather(*(one(w, pcm) for w, pcm in cases))
        await server.stop()
        pool.shutdown()
    name = engine if second_pass else f"{engine}, one pass"
    return {"engine": name, "language": suite["language"], "rss_before_mb": before, "rss_after_mb": after,
            "rss_end_mb": rss_mb(), "load_s": load_s, "results": results}  # fmt: skip


def child(args: argparse.Namespace) -> None:
    report = asyncio.run(run_engine(args.engine, args.variants, args.speed, args.callers, not args.one_pass))
    print(json.dumps(report, ensure_ascii=False))


def summarise(reports: list[dict[str, Any]]) -> None:
    rows: list[tuple[str, ...]] = [("", *(f"{r['engine']} ({r['language']})" for r in reports))]

    def row(name: str, fn: Any) -> None:
        rows.append((name, *(fn(r) for r in reports)))

    row("RSS before load (MB)", lambda r: f"{r['rss_before_mb']:.0f}")
    row("RSS after load (MB)", lambda r: f"{r['rss_after_mb']:.0f}")
    row("RSS after the run (MB)", lambda r: f"{r['rss_end_mb']:.0f}")
    row("model load (s)", lambda r: f"{r['load_s']:.2f}")
    row("correct / utterances", lambda r: f"{sum(x['got'] == x['expected'] for x in r['results'])}/{len(r['results'])}")
    for i in range(6):
        row(f"  keyword {i + 1}", lambda r, i=i: per_word(r)[i])

    def lat(key: str, p: float) -> Any:
        return lambda r: f"{percentile([x[key] for x in r['results'] if x[key] is not None], p):.0f}"

    for p in (50, 95, 99):
        row(f"speech end → decision p{p} (ms)", lat("external_ms", p))
    row("  of which after the last voiced frame p95", lat("internal_ms", 95))
    row("answers by kind", lambda r: " ".join(f"{k}={v}" for k, v in kinds(r).items()))
    width = [max(len(str(x[i])) for x in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, width, strict=True)))


def per_word(report: dict[str, Any]) -> list[str]:
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for x in report["results"]:
        tally[x["word"]][0] += x["got"] == x["expected"]
        tally[x["word"]][1] += 1
    return [f"{w} {ok}/{n}" for w, (ok, n) in tally.items()]


def kinds(report: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for x in report["results"]:
        counts[x["kind"]] += 1
    return dict(counts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=sorted(SUITES), help="run one engine in this process (JSON out)")
    parser.add_argument("--variants", type=int, default=5, help="voices/speeds per keyword (max 6)")
    parser.add_argument("--speed", type=float, default=1.0, help="1.0 = real time")
    parser.add_argument("--callers", type=int, default=3, help="questions at once")
    parser.add_argument("--one-pass", action="store_true", help="no second pass at the pause (with --engine)")
    parser.add_argument("--compare", action="store_true", help="each engine without, then with, the second pass")
    args = parser.parse_args()
    if args.engine:
        child(args)
        return 0
    reports = []
    runs = [(e, one) for e in ("pocketsphinx", "vosk") for one in ((True, False) if args.compare else (False,))]
    for engine, one_pass in runs:
        out = subprocess.run(
            [sys.executable, "-m", "bench.speech", "--engine", engine, "--variants", str(args.variants),
             "--speed", str(args.speed), "--callers", str(args.callers), *(["--one-pass"] if one_pass else [])],
            capture_output=True, text=True,
        )  # fmt: skip
        if out.returncode != 0:
            print(f"{engine} failed:\n{out.stderr[-2000:]}")
            continue
        reports.append(json.loads(out.stdout.strip().splitlines()[-1]))
    summarise(reports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
