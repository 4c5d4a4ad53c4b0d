"""Finding the serving station without letting a slow or missing finder hold up a booking."""

from __future__ import annotations

from datetime import datetime

from hotline.bounded import bounded
from hotline.errors import first_line
from hotline.logs import get_logger
from pickups.interface import OpeningHours, StationFinder, StationHours

log = get_logger(__name__)


async def serving_station(finder: StationFinder, postal_code: str, timeout: float) -> tuple[str | None, str | None]:
    """(station code, None) or (None, why not)."""
    try:
        station = await bounded(finder.serving(postal_code), timeout)
    except Exception as e:
        log.warning("station look-up failed; pickup left unassigned", postal_code=postal_code, error=first_line(e))
        return None, f"station look-up failed ({first_line(e)}); assign it later"
    if station is None:
        return None, f"no station serves postal code {postal_code}"
    return str(station.code), None


async def station_hours(hours: StationHours | None, code: str, at: datetime, timeout: float) -> OpeningHours | None:
    """The station's opening at ``at``, or None when it cannot be told (no hours wired, or no answer)."""
    if hours is None:
        return None
    try:
        return await bounded(hours.opening(code, at), timeout)
    except Exception as e:
        log.warning("station hours unknown; default day used", station=code, error=first_line(e))
        return None
