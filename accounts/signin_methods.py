"""The ways a user can sign in besides the password: apps that provide one (providers, passkeys)
register a counter here, so that none of them removes a user's last way in.

accounts never imports those apps (import-linter forbids it); they register from their
AppConfig.ready, as mfa registers its second factor with accounts.second_factor.
"""

from collections.abc import Callable

from accounts.models import User

# How many ways of its own kind the user has (identities, passkeys). Sync: asked inside the
# transaction of the removal, which holds the user's row.
MethodCounter = Callable[[User], int]
counters: list[MethodCounter] = []


def signin_method_counter_register(counter: MethodCounter) -> None:
    if counter not in counters:
        counters.append(counter)


def signin_methods_count(user: User) -> int:
    """The user's ways in: a usable password counts one, and every registered counter adds."""
    return int(user.has_usable_password()) + sum(counter(user) for counter in counters)
