"""LocalizationApi: renders every SMS text by key, locale and parameters (gRPC)."""
