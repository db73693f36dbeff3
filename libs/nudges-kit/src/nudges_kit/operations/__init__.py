"""Every GraphQL operation one service calls on another's subgraph, declared once (as events
are in :mod:`nudges_kit.events.catalog`): its name, subgraph, document and the models of its
variables and result. Call one with :class:`nudges_kit.service_client.ServiceClient`::

    from nudges_kit.operations import user as user_ops

    identity = await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash=h))
"""

from nudges_kit.operations import product, user
from nudges_kit.operations.declaration import (
    CATALOG,
    EntitiesVars,
    Operation,
    OperationCatalog,
    OperationModel,
    Representation,
    Subgraph,
)

__all__ = [
    "CATALOG",
    "EntitiesVars",
    "Operation",
    "OperationCatalog",
    "OperationModel",
    "Representation",
    "Subgraph",
    "product",
    "user",
]
