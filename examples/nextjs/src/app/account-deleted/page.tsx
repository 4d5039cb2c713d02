import Link from "next/link";

export default async function AccountDeletedPage({
  searchParams,
}: {
  searchParams: Promise<{ until?: string }>;
}) {
  const { until } = await searchParams;
  return (
    <>
      <h1>Account deleted</h1>
      <p role="status">
        Your account is scheduled for deletion{until ? ` and will be erased after ${until}` : ""}. You are
        signed out everywhere. Changed your mind? Follow the link in the message we sent you.
      </p>
      <p>
        <Link href="/signup">Create an account</Link>
      </p>
    </>
  );
}
