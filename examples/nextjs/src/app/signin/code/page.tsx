import { EmailCodeSignin } from "./EmailCodeSignin";

// The page the emailed code's link opens (`?email=`): the address is filled in, the code typed.
export default async function SigninCodePage({
  searchParams,
}: {
  searchParams: Promise<{ email?: string }>;
}) {
  const { email } = await searchParams;
  return (
    <>
      <h1>Sign in with a code</h1>
      <EmailCodeSignin email={email ?? null} />
    </>
  );
}
