"""AuthApi's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter

OTP_REQUESTS = Counter(
    "nudges_auth_otp_requests_total",
    "Code requests, by outcome (sent, rate_limited, not_admin, broker_down)",
    ["outcome"],
)
LOGINS = Counter(
    "nudges_auth_logins_total",
    "Login attempts, by role and outcome",
    ["role", "outcome"],
)
MACHINE_TOKENS = Counter(
    "nudges_auth_machine_tokens_total",
    "Client-credentials requests, by machine account and outcome",
    ["outcome"],
)
