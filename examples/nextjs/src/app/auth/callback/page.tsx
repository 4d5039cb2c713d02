// The landing page of sign-in with another provider: the API's provider callback sends the browser
// here with `?code=` (single use, 60 s), `?linked=<provider>` after linking, or `?error=<reason>`.
import Link from "next/link";

import { ProviderExchange } from "./ProviderExchange";

export default async function ProviderCallbackPage({
  searchParams,
}: {
  searchParams: Promise<{ code?: string; error?: string; linked?: string }>;
}) {
  const { code, error, linked } = await searchParams;
  return (
    <>
      <h1>Sign-in with a provider</h1>
      {linked ? (
        <p>
          The provider is linked to your account. <Link href="/account">Back to your account</Link>
        </p>
      ) : error ? (
        <p role="alert">The provider sign-in did not complete: {error}.</p>
      ) : code ? (
        <ProviderExchange code={code} />
      ) : (
        <p role="alert">This page expects a code or an error from the provider sign-in.</p>
      )}
    </>
  );
}
