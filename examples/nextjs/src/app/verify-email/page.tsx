import { VerifyEmail } from "./VerifyEmail";

export default async function VerifyEmailPage({
  searchParams,
}: {
  searchParams: Promise<{ token?: string }>;
}) {
  const { token } = await searchParams;
  return (
    <>
      <h1>Verify your address</h1>
      {token ? <VerifyEmail token={token} /> : <p role="alert">This link has no token.</p>}
    </>
  );
}
