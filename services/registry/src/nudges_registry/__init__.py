"""GraphMonitor: subgraph schema registry and supergraph composition."""
