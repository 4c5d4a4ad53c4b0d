"""The shipments package's errors, each with its HTTP status."""

from __future__ import annotations

from hotline.errors import HotlineError, NotFound


class InvalidWaybill(HotlineError):
    """A waybill number in no accepted format, or with a wrong check digit."""

    status_code = 422
    code = "invalid_waybill"


class ShipmentNotFound(NotFound):
    pass


class StationNotFound(NotFound):
    pass


class InvalidScan(HotlineError):
    """A scan that contradicts itself (an exception kind on a non-exception scan, or none on one)."""

    status_code = 422
    code = "invalid_scan"
