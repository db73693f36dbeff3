"""AuthApi: phone OTP login, OIDC login for admins, tokens."""
