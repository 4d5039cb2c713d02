"""The accounts routes under /api/auth, one module per group of journeys, each a thin layer of
async views over accounts.flows: sessions (sign-up, sign-in, refresh, sign-out, re-
authentication), links (what arrives by email) and account (export, deletion)."""

from ninja import Router

from accounts.api import account, links, sessions

router = Router(tags=["auth"])
router.add_router("", sessions.router)
router.add_router("", links.router)
router.add_router("", account.router)
