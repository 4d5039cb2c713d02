import { RestoreAccount } from "./RestoreAccount";

export default async function RestoreAccountPage({
  searchParams,
}: {
  searchParams: Promise<{ token?: string }>;
}) {
  const { token } = await searchParams;
  return (
    <>
      <h1>Restore your account</h1>
      {token ? <RestoreAccount token={token} /> : <p role="alert">This link has no token.</p>}
    </>
  );
}
