// The account page's provider identities: server-rendered, with a button to link each provider
// not linked yet and one to remove each identity.
import { serverApi } from "@/api/server";

import { LinkProviderButton, RemoveIdentityButton } from "./IdentityButtons";

export async function LinkedIdentities() {
  const api = await serverApi();
  const [identities, providers] = await Promise.all([
    api.GET("/api/auth/identities"),
    api.GET("/api/auth/providers"),
  ]);
  if (!identities.data || !providers.data || providers.data.length === 0) return null;
  const names = new Map(providers.data.map((provider) => [provider.id, provider.name]));

  return (
    <section aria-label="Linked providers">
      <h2>Sign-in providers</h2>
      <ul>
        {identities.data.map((identity) => (
          <li key={identity.id} data-identity-provider={identity.provider}>
            {names.get(identity.provider) ?? identity.provider}: {identity.email}{" "}
            <RemoveIdentityButton identityId={identity.id} />
          </li>
        ))}
      </ul>
      {providers.data.map((provider) => (
        <LinkProviderButton key={provider.id} providerId={provider.id} name={provider.name} />
      ))}
    </section>
  );
}
