"""The customers side's typed errors (each carries its HTTP status)."""

from __future__ import annotations

from hotline.errors import Conflict, HotlineError, NotFound, ServiceUnavailable


class InvalidPhone(HotlineError):
    status_code = 422
    code = "invalid_phone"


class PhoneTaken(Conflict):
    code = "phone_taken"


class AgreementTaken(Conflict):
    code = "agreement_taken"


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class GradingBusy(Conflict):
    code = "grading_busy"


class NoShipmentHistory(ServiceUnavailable):
    code = "no_shipment_history"


class ImportTooLarge(HotlineError):
    status_code = 413
    code = "import_too_large"
