"""Every declared service-to-service operation is valid against the schema of the subgraph it
calls (the real strawberry schema of UserApi, ProductApi, PaymentApi), names exactly the
variables its variables model sends, and selects exactly the fields its result model reads: a
field renamed on either side fails here, not in production."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import pytest
from graphql import (
    FieldNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    validate,
)
from pydantic import BaseModel, ValidationError

from nudges_kit.operations import (
    CATALOG,
    EntitiesVars,
    Operation,
    OperationCatalog,
    OperationModel,
    Representation,
    Subgraph,
)
from nudges_kit.operations import product as product_ops
from nudges_kit.operations import user as user_ops
from nudges_kit.operations.user import PhoneHashVars


@pytest.fixture(scope="module")
def schemas() -> dict[Subgraph, GraphQLSchema]:
    from nudges_payment.entrypoints.graphql.schema import schema as payment_schema
    from nudges_product.entrypoints.graphql.schema import build_schema as product_schema
    from nudges_user.entrypoints.graphql import schema as user_schema

    return {
        Subgraph.USER: user_schema._schema,
        Subgraph.PRODUCT: product_schema()._schema,
        Subgraph.PAYMENT: payment_schema._schema,
    }


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``M``, ``M | None``, ``list[M | None]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, Union, types.UnionType):
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _selected(selection_set: SelectionSetNode) -> dict[str, FieldNode]:
    """The fields a selection set answers, by response key (inline fragments flattened)."""
    fields: dict[str, FieldNode] = {}
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value != "__typename":
            fields[(selection.alias or selection.name).value] = selection
        elif isinstance(selection, InlineFragmentNode):
            fields.update(_selected(selection.selection_set))
    return fields


def _mismatches(selection_set: SelectionSetNode, model: type[BaseModel], path: str) -> list[str]:
    selected = _selected(selection_set)
    read = {(f.alias or name): f for name, f in model.model_fields.items()}
    problems = [
        f"{path}.{k}: read by {model.__name__}, not selected" for k in read.keys() - selected.keys()
    ]
    problems += [
        f"{path}.{k}: selected, not in {model.__name__}" for k in selected.keys() - read.keys()
    ]
    for key in read.keys() & selected.keys():
        inner = _model_in(read[key].annotation)
        node = selected[key]
        if inner is not None and node.selection_set is not None:
            problems += _mismatches(node.selection_set, inner, f"{path}.{key}")
        elif inner is not None or node.selection_set is not None:
            problems.append(f"{path}.{key}: an object on one side only")
    return problems


def check(operation: Operation[Any, Any], schema: GraphQLSchema) -> list[str]:
    """What is wrong with ``operation`` against ``schema`` (nothing: an empty list)."""
    document = parse(operation.document)
    problems = [f"invalid: {e.message}" for e in validate(schema, document)]
    [definition] = document.definitions
    assert isinstance(definition, OperationDefinitionNode)
    declared = {v.variable.name.value for v in definition.variable_definitions}
    sent = {f.alias or name for name, f in operation.variables.model_fields.items()}
    if declared != sent:
        problems.append(f"variables: the document declares {declared}, the model sends {sent}")
    [root] = definition.selection_set.selections
    assert isinstance(root, FieldNode)
    model = _model_in(operation.result)
    if model is not None and root.selection_set is not None:
        problems += _mismatches(root.selection_set, model, operation.root_field)
    elif model is not None or root.selection_set is not None:
        problems.append(f"{operation.root_field}: an object on one side only")
    return problems


def test_the_catalog_declares_the_operations_of_the_migrated_services() -> None:
    assert {op.name for op in CATALOG} >= {
        "PhoneIdentity",
        "LoginIdentity",
        "SetMembershipsByPhone",
        "ConfirmAnnouncement",
        "ClientAllowance",
        "PriceTierOffer",
        "ClientStripeCustomer",
        # consumers
        "ClientProfile",
        "UserContact",
        "ActiveMembers",
        "AnnouncementToFanOut",
        "AudiencePage",
        "RecipientsToSend",
        "PlanStripeProduct",
        "PriceTierPlan",
    }


@pytest.mark.parametrize("operation", list(CATALOG), ids=lambda op: op.name)
def test_every_declared_operation_fits_its_subgraphs_schema(
    operation: Operation[Any, Any], schemas: dict[Subgraph, GraphQLSchema]
) -> None:
    assert check(operation, schemas[operation.subgraph]) == []


class _Renamed(OperationModel):
    user_id: str | None
    is_administrator: bool


def test_a_renamed_field_or_variable_is_found(schemas: dict[Subgraph, GraphQLSchema]) -> None:
    catalog = OperationCatalog()
    field_renamed = catalog.declare(
        Subgraph.USER,
        "query Renamed($phoneHash: String!) { phoneIdentity(phoneHash: $phoneHash) {"
        " userId isAdministrator } }",
        EntitiesVars,
        _Renamed,
    )
    problems = check(field_renamed, schemas[Subgraph.USER])
    assert any("Cannot query field 'isAdministrator'" in p for p in problems), problems
    assert any(p.startswith("variables:") for p in problems), problems

    model_renamed = catalog.declare(
        Subgraph.USER,
        "query ModelRenamed($phoneHash: String!) { phoneIdentity(phoneHash: $phoneHash) {"
        " userId isAdmin } }",
        PhoneHashVars,
        _Renamed,
    )
    problems = check(model_renamed, schemas[Subgraph.USER])
    assert sorted(problems) == [
        "phoneIdentity.isAdmin: selected, not in _Renamed",
        "phoneIdentity.isAdministrator: read by _Renamed, not selected",
    ]


def test_a_document_is_one_named_operation_of_one_root_field() -> None:
    catalog = OperationCatalog()
    with pytest.raises(ValueError, match="is named"):
        catalog.declare(Subgraph.USER, "{ viewer { __typename } }", EntitiesVars, int)
    with pytest.raises(ValueError, match="exactly one root field"):
        catalog.declare(Subgraph.USER, "query Two { a b }", EntitiesVars, int)
    catalog.declare(Subgraph.USER, "query Once { a }", EntitiesVars, int)
    with pytest.raises(ValueError, match="already declared"):
        catalog.declare(Subgraph.USER, "query Once { b }", EntitiesVars, int)


def test_variables_are_sent_in_the_graphs_names_and_results_parsed_from_them() -> None:
    stop = user_ops.set_memberships_by_phone.payload(
        user_ops.SetMembershipsByPhoneVars(phone_hash="h", status=user_ops.MembershipStatus.STOPPED)
    )
    assert stop["operationName"] == "SetMembershipsByPhone"
    assert stop["variables"] == {"phoneHash": "h", "status": "STOPPED"}
    check_stop = user_ops.recipients_to_send.payload(
        user_ops.RecipientsToSendVars(client_id="c", announcement_id="a", subscriber_ids=["s1"])
    )
    assert check_stop["variables"] == {
        "clientId": "c",
        "announcementId": "a",
        "subscriberIds": ["s1"],
    }
    first_page = user_ops.audience_page.payload(
        user_ops.AudiencePageVars(client_id="c", announcement_id="a", first=5000)
    )
    assert first_page["variables"] == {
        "clientId": "c",
        "announcementId": "a",
        "first": 5000,
        "after": None,
    }
    lookup = user_ops.announcement_to_fan_out.payload(
        EntitiesVars(representations=[Representation.of("Announcement", "a1")])
    )
    assert lookup["variables"] == {"representations": [{"__typename": "Announcement", "id": "a1"}]}

    page = user_ops.audience_page.parse(
        {
            "recipients": [{"subscriberId": "s", "locale": "es", "phoneCiphertext": "c"}],
            "nextAfter": "s",
        }
    )
    assert page.next_after == "s"
    assert page.recipients == [
        user_ops.Recipient(subscriber_id="s", locale="es", phone_ciphertext="c")
    ]
    assert user_ops.client_profile.parse(None) is None
    assert product_ops.price_tier_plan.parse([{"plan": {"name": "Pro"}}, None]) == [
        product_ops.PriceTierPlan(plan=product_ops.PlanName(name="Pro")),
        None,
    ]
    with pytest.raises(ValidationError):
        product_ops.plan_stripe_product.parse(None)  # a plan is never null: NOT_FOUND instead
