"""Small Strawberry federation subgraphs the gateway tests run for real (uvicorn threads)."""
