"""crm_bridge's wiring: provides the customer look-up to the other packages."""

from __future__ import annotations

from crm_bridge.interface import CUSTOMERS
from crm_bridge.service import CustomerDirectory
from hotline.plugins import Core, Plugin


class CrmPlugin(Plugin):
    def __init__(self, core: Core) -> None:
        self.customers = CustomerDirectory(core.db)
        core.services.provide(CUSTOMERS, self.customers)


def setup(core: Core) -> CrmPlugin:
    return CrmPlugin(core)
