/** For component tests: a fake answer made to look like the gateway's, which names the type of
 * every object (`__typename`, which the normalized cache needs) from the public schema. */
import {
  buildSchema,
  getNamedType,
  isAbstractType,
  isObjectType,
  parse,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type SelectionSetNode,
} from 'graphql';

import schemaText from '../../schema.graphql?raw';

const schema = buildSchema(schemaText);

type Json = Record<string, unknown>;

function annotate(
  value: unknown,
  type: GraphQLCompositeType,
  selections: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
): unknown {
  if (Array.isArray(value)) return value.map((item) => annotate(item, type, selections, fragments));
  if (value === null || typeof value !== 'object') return value;
  const object = { ...(value as Json) };
  const named = isAbstractType(type) ? (object.__typename as string | undefined) : type.name;
  const concrete = named ? (schema.getType(named) as GraphQLObjectType | undefined) : undefined;
  if (!concrete || !isObjectType(concrete)) return object;
  object.__typename = concrete.name;
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === 'Field') {
        const key = selection.alias?.value ?? selection.name.value;
        const field = concrete.getFields()[selection.name.value];
        const fieldType = field ? getNamedType(field.type) : undefined;
        if (selection.selectionSet && fieldType && key in object && (isObjectType(fieldType) || isAbstractType(fieldType))) {
          object[key] = annotate(object[key], fieldType, selection.selectionSet, fragments);
        }
      } else {
        const fragment = selection.kind === 'FragmentSpread' ? fragments.get(selection.name.value) : selection;
        const condition = fragment?.typeCondition?.name.value;
        const applies =
          !condition ||
          condition === concrete.name ||
          concrete.getInterfaces().some((i) => i.name === condition) ||
          (() => {
            const target = schema.getType(condition);
            return !!target && isAbstractType(target) && schema.isSubType(target, concrete);
          })();
        if (fragment && applies) visit(fragment.selectionSet);
      }
    }
  };
  visit(selections);
  return object;
}

/** `data` of an answer to `query`, with `__typename` on every object as the schema says. */
export function withTypenames(query: string, data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data;
  const document = parse(query);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === 'FragmentDefinition') fragments.set(definition.name.value, definition);
  }
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition');
  if (!operation || operation.kind !== 'OperationDefinition') return data;
  const root =
    operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  return root ? annotate(data, root, operation.selectionSet, fragments) : data;
}
