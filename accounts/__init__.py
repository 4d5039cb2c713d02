"""User accounts: sign-up, sign-in, sessions with rotating refresh tokens, throttles."""
