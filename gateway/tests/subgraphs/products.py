"""``products``: products (two keys: ``upc``, and the compound ``sku brand``), an entity
interface ``Media`` with two implementations, and a union over them."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.federation import Schema

PRODUCTS = {
    "p1": {"upc": "p1", "sku": "S-1", "brand": "acme", "name": "Table", "price": 899, "weight": 10},
    "p2": {"upc": "p2", "sku": "S-2", "brand": "acme", "name": "Chair", "price": 120, "weight": 4},
    "p3": {"upc": "p3", "sku": "S-3", "brand": "zeta", "name": "Lamp", "price": 45, "weight": 1},
}


@strawberry.federation.interface(keys=["id"])
class Media:
    id: strawberry.ID
    title: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Media:
        """An entity interface: the router asks for ``Media`` and gets a Book or a Movie."""
        return MEDIA_BY_ID[str(id)]


@strawberry.federation.type(keys=["id"])
class Book(Media):
    pages: int

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Book:
        return MEDIA_BY_ID[str(id)]  # type: ignore[return-value]


@strawberry.federation.type(keys=["id"])
class Movie(Media):
    minutes: int

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Movie:
        return MEDIA_BY_ID[str(id)]  # type: ignore[return-value]


MEDIA_BY_ID: dict[str, Media] = {
    "b1": Book(id=strawberry.ID("b1"), title="Dune", pages=412),
    "m1": Movie(id=strawberry.ID("m1"), title="Alien", minutes=117),
}

SearchResult = Annotated[Book | Movie, strawberry.union("SearchResult")]


@strawberry.federation.type(keys=["upc", "sku brand"])
class Product:
    upc: str
    sku: str
    brand: str
    # reviews provides the name of the products of its reviews
    name: str = strawberry.federation.field(shareable=True)
    price: int
    weight: int
    # Moved to inventory (@override there): this answer must never reach a client.
    stock: int = -1
    internal_code: str = strawberry.federation.field(inaccessible=True, default="secret")

    @classmethod
    def of(cls, upc: str) -> Product:
        return cls(**PRODUCTS[upc])  # type: ignore[arg-type]

    @classmethod
    def resolve_reference(
        cls, upc: str | None = None, sku: str | None = None, brand: str | None = None
    ) -> Product | None:
        for row in PRODUCTS.values():
            if row["upc"] == upc or (row["sku"] == sku and row["brand"] == brand):
                return cls.of(str(row["upc"]))
        return None


@strawberry.type
class Query:
    @strawberry.field
    def top_products(self, first: int = 5) -> list[Product]:
        return [Product.of(upc) for upc in list(PRODUCTS)[:first]]

    @strawberry.field
    def product(self, upc: str) -> Product | None:
        return Product.of(upc) if upc in PRODUCTS else None

    @strawberry.field
    def media(self) -> list[Media]:
        return list(MEDIA_BY_ID.values())

    @strawberry.field
    def search(self, term: str) -> list[SearchResult]:
        return [m for m in MEDIA_BY_ID.values() if term.lower() in m.title.lower()]  # type: ignore[misc]


@strawberry.type
class Mutation:
    @strawberry.mutation
    def set_price(self, upc: str, price: int) -> Product | None:
        if upc not in PRODUCTS:
            return None
        PRODUCTS[upc]["price"] = price
        return Product.of(upc)


schema = Schema(query=Query, mutation=Mutation, types=[Book, Movie, Product])
