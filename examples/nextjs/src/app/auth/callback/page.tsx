// The landing page of sign-in with another provider: the API's provider callback sends the browser
// here with `?code=` (single use, 60 s) or `?error=<reason>`.
import { ProviderExchange } from "./ProviderExchange";

export default async function ProviderCallbackPage({
  searchParams,
}: {
  searchParams: Promise<{ code?: string; error?: string }>;
}) {
  const { code, error } = await searchParams;
  return (
    <>
      <h1>Sign-in with a provider</h1>
      {error ? (
        <p role="alert">The provider sign-in did not complete: {error}.</p>
      ) : code ? (
        <ProviderExchange code={code} />
      ) : (
        <p role="alert">This page expects a code or an error from the provider sign-in.</p>
      )}
    </>
  );
}
