// Writes dist/index.html: GraphiQL with its scripts, styles and editor workers inlined,
// posting to /graphql on the page's own origin.
import { mkdirSync, writeFileSync } from "node:fs";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";

const html = renderGraphiQL({
  title: "Nudges GraphQL",
  endpoint: "/graphql",
  defaultQuery: "# Operations typed here go through the gateway.\n{\n  __typename\n}\n",
});
mkdirSync(new URL("./dist/", import.meta.url), { recursive: true });
writeFileSync(new URL("./dist/index.html", import.meta.url), html);
console.log(`dist/index.html: ${html.length} characters`);
