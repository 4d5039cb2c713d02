import { RequestReset, SetNewPassword } from "./forms";

export default async function ResetPasswordPage({
  searchParams,
}: {
  searchParams: Promise<{ token?: string }>;
}) {
  const { token } = await searchParams;
  return (
    <>
      <h1>Reset your password</h1>
      {token ? <SetNewPassword token={token} /> : <RequestReset />}
    </>
  );
}
