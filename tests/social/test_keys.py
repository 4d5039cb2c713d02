"""The provider's keys: cached, fetched again for an unknown `kid` (a rotation), but not more
often than once a minute (a forger naming random kids cannot make us hammer the provider)."""

from social import providers as provider_cache
from tests.social.helpers import AUTH
from tests.support.markers import LIVE

pytestmark = [*LIVE]


async def test_an_unknown_kid_fetches_the_keys_again_once_a_minute_at_most(
    api, providers, monkeypatch
):
    provider_cache.states.clear()
    fetched: list[str] = []
    real = provider_cache.http_json

    async def counting(method, url, **kwargs):
        if url.endswith("/jwks"):
            fetched.append(url)
        return await real(method, url, **kwargs)

    monkeypatch.setattr(provider_cache, "http_json", counting)
    known = providers.mint({"sub": "k1", "email": "k1@example.com"})
    assert (
        await api.post(f"{AUTH}/providers/acme/token", json={"id_token": known})
    ).status_code == 200
    assert len(fetched) == 1

    # Tokens naming a key the provider does not publish: refused, from the cached keys.
    for number in range(3):
        token = providers.mint({"sub": f"k{number}"}, header={"kid": "rotated"})
        response = await api.post(f"{AUTH}/providers/acme/token", json={"id_token": token})
        assert response.status_code == 401
    assert len(fetched) == 1

    # Once the interval has passed, an unknown kid fetches the keys again.
    monkeypatch.setattr(provider_cache, "KEYS_REFETCH_INTERVAL", 0.0)
    token = providers.mint({"sub": "k9"}, header={"kid": "rotated"})
    assert (
        await api.post(f"{AUTH}/providers/acme/token", json={"id_token": token})
    ).status_code == 401
    assert len(fetched) == 2
