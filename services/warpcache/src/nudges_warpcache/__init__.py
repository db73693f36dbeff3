"""WarpCache: gRPC cache for OTP secrets, tokens, drafts and counters."""
