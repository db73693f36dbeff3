"""``inventory``: extends Product through the compound key ``sku brand``; takes ``stock``
over from products (@override); ``shippingEstimate`` requires the external ``weight``."""

from __future__ import annotations

import strawberry
from strawberry.federation import Schema

STOCK = {("S-1", "acme"): 3, ("S-2", "acme"): 0, ("S-3", "zeta"): 12}
ZONES = {"domestic": 1, "europe": 3, "world": 5}
#: Every representation the last _entities call received (for the @requires test).
SEEN: list[dict[str, object]] = []


@strawberry.federation.type(keys=["sku brand"])
class Product:
    sku: str
    brand: str
    weight: int = strawberry.federation.field(external=True, default=0)

    @strawberry.federation.field(override="products")
    def stock(self) -> int:
        return STOCK.get((self.sku, self.brand), 0)

    @strawberry.field
    def in_stock(self) -> bool:
        return STOCK.get((self.sku, self.brand), 0) > 0

    @strawberry.federation.field(requires=["weight"])
    def shipping_estimate(self, zone: str = "domestic") -> int:
        assert self.weight >= 0, "weight was not passed in the representation"
        return self.weight * ZONES[zone]

    @strawberry.field
    def restock_date(self) -> str | None:
        return None if STOCK.get((self.sku, self.brand), 0) else "2030-01-01"

    @strawberry.field
    def failing(self) -> str:
        raise ValueError(f"inventory cannot tell about {self.sku}")

    @classmethod
    def resolve_reference(cls, sku: str, brand: str, weight: int | None = None) -> Product:
        SEEN.append({"sku": sku, "brand": brand, "weight": weight})
        return cls(sku=sku, brand=brand, weight=weight if weight is not None else -1)


@strawberry.type
class Query:
    @strawberry.field
    def warehouses(self) -> list[str]:
        return ["north", "south"]


schema = Schema(query=Query, types=[Product])
