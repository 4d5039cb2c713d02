from tests.mfa.helpers import clock

__all__ = ["clock"]
