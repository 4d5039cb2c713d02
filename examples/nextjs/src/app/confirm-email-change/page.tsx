import { ConfirmEmailChange } from "./ConfirmEmailChange";

export default async function ConfirmEmailChangePage({
  searchParams,
}: {
  searchParams: Promise<{ token?: string }>;
}) {
  const { token } = await searchParams;
  return (
    <>
      <h1>Confirm your new address</h1>
      {token ? <ConfirmEmailChange token={token} /> : <p role="alert">This link has no token.</p>}
    </>
  );
}
