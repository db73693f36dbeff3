// Composes subgraph sets with @theguild/federation-composition for the conformance test.
// stdin: {"<set>": [{"name", "url", "sdl"}, ...], ...}
// stdout: {"<set>": {"supergraph": "<sdl>" | null, "errors": [{"code", "message"}]}, ...}
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices, compositionHasErrors } from "@theguild/federation-composition";

const sets = JSON.parse(readFileSync(0, "utf8"));
const results = {};
for (const [name, subgraphs] of Object.entries(sets)) {
  try {
    const result = composeServices(
      subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })),
    );
    if (compositionHasErrors(result)) {
      results[name] = {
        supergraph: null,
        errors: result.errors.map((e) => ({ code: e.extensions?.code ?? null, message: e.message })),
      };
    } else {
      results[name] = { supergraph: result.supergraphSdl, errors: [] };
    }
  } catch (error) {
    results[name] = { supergraph: null, errors: [{ code: "EXCEPTION", message: String(error) }] };
  }
}
process.stdout.write(JSON.stringify(results));
