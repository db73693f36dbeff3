"""Every declared service-to-service operation is valid against the schema of the subgraph it
calls (the real strawberry schema of UserApi, ProductApi, PaymentApi), names exactly the
variables its variables model sends, and selects exactly the fields its result model reads: a
field renamed on either side fails here, not in production."""

from __future__ import annotations

import types
from datetime import datetime
from enum import StrEnum
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
from pydantic import BaseModel, Field

from nudges_kit.operations import (
    CATALOG,
    EntitiesVars,
    Operation,
    OperationCatalog,
    OperationModel,
    Representation,
    Subgraph,
)
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


# What the consumers service calls today, declared in the catalog's terms: entity lookups with
# arguments, cursor pages, nullable roots, input objects, enums and dates. Its migration moves
# declarations like these into nudges_kit.operations.


class RecipientsToSendVars(OperationModel):
    representations: list[Representation]
    subscriber_ids: list[str]


class AnnouncementToSend(OperationModel):
    recipients_to_send: list[str]


class RecipientsPageVars(OperationModel):
    client_id: str
    announcement_id: str
    first: int
    after: str | None = None


class Recipient(OperationModel):
    subscriber_id: str
    locale: str
    phone_ciphertext: str


class RecipientPage(OperationModel):
    recipients: list[Recipient]
    next_after: str | None


class PlanVars(OperationModel):
    id: str


class Plan(OperationModel):
    id: str
    name: str
    stripe_product_id: str | None


class SubscriptionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAST_DUE = "PAST_DUE"


class UpdateSubscriptionVars(OperationModel):
    stripe_subscription_id: str
    status: SubscriptionStatus | None = None
    current_period_end: datetime | None = None


class UpdatedSubscription(OperationModel):
    id: str
    status: str


class ActivateInput(OperationModel):
    client_id: str
    price_tier_id: str
    stripe_subscription_id: str
    current_period_start: datetime
    current_period_end: datetime


class ActivateVars(OperationModel):
    input_: ActivateInput = Field(alias="input")


class PaymentConfirmationInput(OperationModel):
    stripe_invoice_id: str
    client_id: str
    amount: int
    currency: str
    paid_at: datetime


class RecordPaymentVars(OperationModel):
    input_: PaymentConfirmationInput = Field(alias="input")


class Recorded(OperationModel):
    id: str


consumers = OperationCatalog()
record_payment = consumers.declare(
    Subgraph.PAYMENT,
    """
    mutation RecordPaymentConfirmation($input: RecordPaymentConfirmationInput!) {
      recordPaymentConfirmation(input: $input) { id }
    }""",
    RecordPaymentVars,
    Recorded,
)
recipients_to_send = consumers.declare(
    Subgraph.USER,
    """
    query RecipientsToSend($representations: [_Any!]!, $subscriberIds: [ID!]!) {
      _entities(representations: $representations) {
        ... on Announcement { recipientsToSend(subscriberIds: $subscriberIds) }
      }
    }""",
    RecipientsToSendVars,
    list[AnnouncementToSend | None],
)
announcement_recipients = consumers.declare(
    Subgraph.USER,
    """
    query AnnouncementRecipients($clientId: ID!, $announcementId: ID!, $first: Int!, $after: ID) {
      announcementRecipients(
        clientId: $clientId, announcementId: $announcementId, first: $first, after: $after
      ) {
        recipients { subscriberId locale phoneCiphertext }
        nextAfter
      }
    }""",
    RecipientsPageVars,
    RecipientPage,
)
plan: Operation[PlanVars, Plan | None] = consumers.declare(
    Subgraph.PRODUCT,
    "query Plan($id: ID!) { plan(id: $id) { id name stripeProductId } }",
    PlanVars,
    Plan | None,
)
update_subscription = consumers.declare(
    Subgraph.PRODUCT,
    """
    mutation UpdatePlanSubscription(
      $stripeSubscriptionId: String!, $status: PlanSubscriptionStatus, $currentPeriodEnd: DateTime
    ) {
      updatePlanSubscription(
        stripeSubscriptionId: $stripeSubscriptionId, status: $status,
        currentPeriodEnd: $currentPeriodEnd
      ) { id status }
    }""",
    UpdateSubscriptionVars,
    UpdatedSubscription,
)
activate_subscription = consumers.declare(
    Subgraph.PRODUCT,
    """
    mutation ActivatePlanSubscription($input: ActivatePlanSubscriptionInput!) {
      activatePlanSubscription(input: $input) { id status }
    }""",
    ActivateVars,
    UpdatedSubscription,
)


@pytest.mark.parametrize("operation", list(consumers), ids=lambda op: op.name)
def test_the_catalog_expresses_what_consumers_calls(
    operation: Operation[Any, Any], schemas: dict[Subgraph, GraphQLSchema]
) -> None:
    assert check(operation, schemas[operation.subgraph]) == []


def test_variables_are_sent_in_the_graphs_names_and_results_parsed_from_them() -> None:
    at = datetime(2026, 12, 7, 9, 0)
    payload = update_subscription.payload(
        UpdateSubscriptionVars(
            stripe_subscription_id="sub_1",
            status=SubscriptionStatus.PAST_DUE,
            current_period_end=at,
        )
    )
    assert payload["operationName"] == "UpdatePlanSubscription"
    assert payload["variables"] == {
        "stripeSubscriptionId": "sub_1",
        "status": "PAST_DUE",
        "currentPeriodEnd": "2026-12-07T09:00:00",
    }
    lookup = recipients_to_send.payload(
        RecipientsToSendVars(
            representations=[Representation.of("Announcement", "a1")], subscriber_ids=["s1"]
        )
    )
    assert lookup["variables"] == {
        "representations": [{"__typename": "Announcement", "id": "a1"}],
        "subscriberIds": ["s1"],
    }
    assert recipients_to_send.parse([{"recipientsToSend": ["s1"]}, None]) == [
        AnnouncementToSend(recipients_to_send=["s1"]),
        None,
    ]
    assert plan.parse(None) is None
    paid = record_payment.payload(
        RecordPaymentVars(
            input_=PaymentConfirmationInput(
                stripe_invoice_id="in_1", client_id="c", amount=900, currency="usd", paid_at=at
            )
        )
    )
    assert paid["variables"]["input"]["stripeInvoiceId"] == "in_1"
    assert paid["variables"]["input"]["paidAt"] == "2026-12-07T09:00:00"
    page = announcement_recipients.parse(
        {
            "recipients": [{"subscriberId": "s", "locale": "es", "phoneCiphertext": "c"}],
            "nextAfter": "s",
        }
    )
    assert page.next_after == "s"
    assert page.recipients[0].locale == "es"
