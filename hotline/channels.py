"""Asterisk's channel and interface names, read the one way every package needs them."""

from __future__ import annotations


def extension_of(interface: str | None) -> str | None:
    """The extension an interface or channel names: ``PJSIP/1001``, ``PJSIP/1001-0000002a`` and
    ``Local/1001@agents-00000001;1`` → ``1001``; anything without a technology (``1001``, ``""``) → None."""
    if not interface or "/" not in interface:
        return None
    return interface.split("/", 1)[1].split("@", 1)[0].split("-", 1)[0] or None
