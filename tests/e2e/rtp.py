"""What phones hear: RTP sniffed on the loopback interface (AF_PACKET, root) per destination port, decoded
from A-law, and how strong one frequency is in it (Goertzel) — to tell whose voice reached whom."""

from __future__ import annotations

import math
import socket
import struct
import threading
import time
from collections import defaultdict

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SAMPLE_RATE = 8000


def _alaw_to_linear(byte: int) -> int:
    """G.711 A-law → 16-bit signed linear (ITU-T G.711)."""
    a = byte ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


ALAW = [_alaw_to_linear(b) for b in range(256)]


class RtpSniffer:
    """Collects (arrival time, A-law payload) of the RTP packets sent to each of ``ports`` on 127.0.0.1."""

    def __init__(self, ports: set[int]) -> None:
        self.ports = ports
        self.packets: dict[int, list[tuple[float, bytes]]] = defaultdict(list)
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        self._sock.bind(("lo", 0))
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RtpSniffer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame, address = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            if address[2] == PACKET_OUTGOING:  # loopback shows each packet twice: keep the arrival
                continue
            ip = frame[14:]
            if len(ip) < 28 or ip[9] != socket.IPPROTO_UDP:
                continue
            header = (ip[0] & 0x0F) * 4
            dport = struct.unpack("!H", ip[header + 2 : header + 4])[0]
            if dport not in self.ports:
                continue
            rtp = ip[header + 8 :]
            if len(rtp) < 12 or rtp[0] >> 6 != 2 or rtp[1] & 0x7F != 8:  # RTP version 2, PCMA only
                continue
            start = 12 + 4 * (rtp[0] & 0x0F)
            if rtp[0] & 0x10 and len(rtp) >= start + 4:  # header extension
                start += 4 + 4 * struct.unpack("!H", rtp[start + 2 : start + 4])[0]
            self.packets[dport].append((time.time(), bytes(rtp[start:])))

    def count(self, port: int, since: float = 0.0, until: float = math.inf) -> int:
        return sum(1 for t, _ in self.packets.get(port, []) if since <= t < until)

    def samples(self, port: int, since: float, until: float) -> list[int]:
        return [ALAW[b] for t, payload in self.packets.get(port, []) if since <= t < until for b in payload]


def tone_level(samples: list[int], frequency: float, window: int = 4000) -> float:
    """The median amplitude of ``frequency`` over windows of ``window`` samples (Goertzel); 0 without audio."""
    levels = []
    coefficient = 2 * math.cos(2 * math.pi * frequency / SAMPLE_RATE)
    for start in range(0, len(samples) - window + 1, window):
        s1 = s2 = 0.0
        for x in samples[start : start + window]:
            s1, s2 = x + coefficient * s1 - s2, s1
        power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
        levels.append(2 * math.sqrt(max(power, 0.0)) / window)
    levels.sort()
    return levels[len(levels) // 2] if levels else 0.0
