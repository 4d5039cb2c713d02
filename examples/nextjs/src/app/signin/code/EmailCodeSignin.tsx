"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

import { api, isChallenge, problem } from "@/api/browser";
import { SecondFactorForm } from "@/components/SecondFactorForm";

/** Ask for a code by email (input `email`), then type it (input `code`): a session, or the
 *  second factor's challenge first, as a password sign-in. */
export function EmailCodeSignin({ email: linked }: { email: string | null }) {
  const router = useRouter();
  const [email, setEmail] = useState<string | null>(linked);
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signedIn = () => router.replace("/account");

  async function ask(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const address = String(new FormData(event.currentTarget).get("email"));
    setBusy(true);
    const { error, response } = await api.POST("/api/auth/email/code", { body: { email: address } });
    setBusy(false);
    if (!response.ok) return setError(problem(error, response));
    setError(null);
    setEmail(address);
  }

  async function confirm(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget).get("code"));
    setBusy(true);
    const { data, error, response } = await api.POST("/api/auth/email/code/confirm", {
      body: { email: email ?? "", code },
    });
    setBusy(false);
    if (!data) return setError(problem(error, response));
    if (isChallenge(data)) setMfaToken(data.mfa_token);
    else signedIn();
  }

  if (mfaToken) return <SecondFactorForm mfaToken={mfaToken} onSignedIn={signedIn} />;
  if (email === null) {
    return (
      <form onSubmit={ask}>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <button type="submit" disabled={busy}>
          Email me a code
        </button>
        {error && <p role="alert">{error}</p>}
      </form>
    );
  }
  return (
    <form onSubmit={confirm}>
      <p role="status">If {email} has an account, a code is on its way. It works for 10 minutes.</p>
      <label>
        Code
        <input name="code" autoComplete="one-time-code" required />
      </label>
      <button type="submit" disabled={busy}>
        Sign in
      </button>
      <button type="button" onClick={() => setEmail(null)}>
        Use another address
      </button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
