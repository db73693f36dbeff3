"""``reviews``: reviews of products (``product`` @provides the product's name), ratings added
to every ``Media`` through an @interfaceObject, a slow field, and a subscription."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.federation import Schema

REVIEWS = [
    {"id": "r1", "body": "Sturdy", "stars": 5, "upc": "p1"},
    {"id": "r2", "body": "Wobbly", "stars": 2, "upc": "p1"},
    {"id": "r3", "body": "Comfy", "stars": 4, "upc": "p2"},
]
NAMES = {"p1": "Table", "p2": "Chair", "p3": "Lamp"}


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: str
    name: str = strawberry.federation.field(external=True, default="")

    @strawberry.field
    def reviews(self) -> list[Review]:
        return [Review.of(r) for r in REVIEWS if r["upc"] == self.upc]

    @classmethod
    def resolve_reference(cls, upc: str) -> Product:
        return cls(upc=upc)


@strawberry.type
class Review:
    id: strawberry.ID
    body: str
    stars: int
    upc: strawberry.Private[str]

    @classmethod
    def of(cls, row: dict[str, object]) -> Review:
        return cls(
            id=strawberry.ID(str(row["id"])),
            body=str(row["body"]),
            stars=int(row["stars"]),  # type: ignore[call-overload]
            upc=str(row["upc"]),
        )

    @strawberry.federation.field(provides=["name"])
    def product(self) -> Product:
        return Product(upc=self.upc, name=NAMES[self.upc])

    @strawberry.field
    def flaky(self) -> str | None:
        raise ValueError(f"review {self.id} is flaky")


@strawberry.federation.interface_object(keys=["id"])
class Media:
    id: strawberry.ID

    @strawberry.field
    def rating(self) -> int:
        return len(str(self.id)) + 3

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Media:
        return cls(id=id)


ReviewResult = Annotated[Review, strawberry.union("SearchResult")]


@strawberry.type
class Query:
    @strawberry.field
    def reviews(self) -> list[Review]:
        return [Review.of(r) for r in REVIEWS]

    @strawberry.field
    def review_search(self, stars: int) -> list[ReviewResult]:
        return [Review.of(r) for r in REVIEWS if r["stars"] >= stars]

    @strawberry.field
    def top_rated(self) -> list[Media]:
        return [Media(id=strawberry.ID("m1")), Media(id=strawberry.ID("b1"))]

    @strawberry.field
    async def slow(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return f"slept {seconds}"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def review_added(self, count: int = 3) -> AsyncGenerator[Review, None]:
        for row in REVIEWS[:count]:
            await asyncio.sleep(0.01)
            yield Review.of(row)


schema = Schema(query=Query, subscription=Subscription, types=[Product, Media])
