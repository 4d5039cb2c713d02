"use client";

import { useEffect, useState } from "react";

import { api, problem } from "@/api/browser";

type Provider = { id: string; name: string };

/** Sends the browser to a provider: `signin` from /signin, `link` from /account (a fresh session). */
export async function goToProvider(providerId: string, process: "signin" | "link"): Promise<string | null> {
  const { data, error, response } = await api.POST("/api/auth/providers/{provider_id}/authorize", {
    params: { path: { provider_id: providerId } },
    body: { process },
  });
  if (!data) return problem(error, response);
  // The answer also set an HttpOnly cookie binding the flow to this browser.
  window.location.assign(data.authorization_url);
  return null;
}

/** A "Sign in with …" button per provider the API offers (GET /api/auth/providers). */
export function ProviderButtons() {
  const [providers, setProviders] = useState<Provider[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.GET("/api/auth/providers").then(({ data }) => setProviders(data ?? []));
  }, []);

  if (providers.length === 0) return null;
  return (
    <section aria-label="Other ways to sign in">
      {providers.map((provider) => (
        <button
          key={provider.id}
          type="button"
          data-provider={provider.id}
          onClick={async () => setError(await goToProvider(provider.id, "signin"))}
        >
          Sign in with {provider.name}
        </button>
      ))}
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
