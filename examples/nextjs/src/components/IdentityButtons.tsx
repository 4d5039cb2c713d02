"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";

import { api, problem } from "@/api/browser";

import { goToProvider } from "./ProviderButtons";

// Linking and removing need a fresh session (a sign-in within REAUTH_MAX_AGE): an older one is
// answered 401 "Re-authentication required", shown as it is.
export function LinkProviderButton({ providerId, name }: { providerId: string; name: string }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button type="button" onClick={async () => setError(await goToProvider(providerId, "link"))}>
        Link {name}
      </button>
      {error && <span role="alert">{error}</span>}
    </>
  );
}

export function RemoveIdentityButton({ identityId }: { identityId: number }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);

  async function remove() {
    const { error, response } = await api.DELETE("/api/auth/identities/{identity_id}", {
      params: { path: { identity_id: identityId } },
    });
    if (!response.ok) return setError(problem(error, response));
    router.refresh();
  }

  return (
    <>
      <button type="button" onClick={remove}>
        Remove
      </button>
      {error && <span role="alert">{error}</span>}
    </>
  );
}
