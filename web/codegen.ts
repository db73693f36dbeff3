// GraphQL Code Generator: the TypeScript types of every operation of each app, from the public
// graph's schema (schema.graphql, written by scripts/web_schema.py). `npm run codegen` in web/.
// The generated files are committed; web/tests/test_web.py fails when they are stale.
import type { CodegenConfig } from '@graphql-codegen/cli';

const types = {
  // typescript-operations emits the enums and inputs the operations use as well.
  plugins: ['typescript-operations'],
  config: {
    enumsAsTypes: true,
    avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
    defaultScalarType: 'unknown',
    // How the scalars arrive in JSON.
    scalars: { Date: 'string', DateTime: 'string', MinorUnits: 'number' },
    useTypeImports: true,
  },
};

// Where the files go: here, or elsewhere to compare (web/tests/test_web.py sets CODEGEN_OUT).
const out = process.env.CODEGEN_OUT ?? '.';

const config: CodegenConfig = {
  overwrite: true,
  schema: 'schema.graphql',
  generates: {
    [`${out}/admin/src/generated/graphql.ts`]: { documents: ['admin/src/operations.ts'], ...types },
    [`${out}/signup/src/generated/graphql.ts`]: { documents: ['signup/src/operations.ts'], ...types },
  },
};

export default config;
