// Hive Gateway's configuration in the gateway benchmark (bench/gateway_vs_apollo.py): its
// defaults, except that identical subgraph queries in flight at once are not shared
// (`deduplicateInflightRequests`, on by default), so that every client request costs the
// subgraphs the same three requests as through the other gateways. With
// HIVE_DEDUPLICATE_INFLIGHT=1 (the benchmark's --hive-deduplicate) the default is kept.
import { defineConfig } from "@graphql-hive/gateway";

const deduplicate = process.env.HIVE_DEDUPLICATE_INFLIGHT === "1";

export const gatewayConfig = defineConfig({
  transportEntries: {
    "*": { options: { deduplicateInflightRequests: deduplicate } },
  },
});
