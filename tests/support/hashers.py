"""A cheap Argon2 for tests that are not about hashing (production: 100 MiB, t=2, p=8)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    memory_cost = 1024
    time_cost = 1
    parallelism = 1
