"""Throttle counters kept in the database (accounts.throttles)."""

from django.db import models


class ThrottleCounter(models.Model):
    """A fixed-window request counter shared by every worker process (counted by an upsert)."""

    key = models.CharField(max_length=200, primary_key=True)
    window_start = models.BigIntegerField()
    count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
