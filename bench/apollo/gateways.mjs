// Apollo Gateway for each supergraph file given, each on a port of its own:
//   node gateways.mjs SUPERGRAPH_FILE...
// prints one JSON line {"<file>": "<url>", ...} when all serve (the gateway conformance test
// sends the same operations here and to the Nudges gateway).
import { readFileSync } from "node:fs";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const files = process.argv.slice(2);
const urls = {};
for (const file of files) {
  const gateway = new ApolloGateway({ supergraphSdl: readFileSync(file, "utf8") });
  const server = new ApolloServer({ gateway, introspection: false, includeStacktraceInErrorResponses: false });
  const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port: 0 } });
  urls[file] = url;
}
console.log(JSON.stringify(urls));
