"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

import { api, isChallenge, problem } from "@/api/browser";
import { SecondFactorForm } from "@/components/SecondFactorForm";

export function RequestReset() {
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget).get("email"));
    const { data, error, response } = await api.POST("/api/auth/password/reset", { body: { email } });
    setMessage(data ? { ok: true, text: data.message } : { ok: false, text: problem(error, response) });
  }

  return (
    <form onSubmit={submit}>
      <label>
        Email
        <input name="email" type="email" autoComplete="username" required />
      </label>
      <button type="submit">Send me a link</button>
      {message && <p role={message.ok ? "status" : "alert"}>{message.text}</p>}
    </form>
  );
}

export function SetNewPassword({ token }: { token: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  // A user with a second factor gets the challenge instead of a session.
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const signedIn = () => router.replace("/account");

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const password = String(new FormData(event.currentTarget).get("password"));
    const { data, error, response } = await api.POST("/api/auth/password/reset/confirm", {
      body: { token, new_password: password },
    });
    if (!data) return setError(problem(error, response));
    if (isChallenge(data)) setMfaToken(data.mfa_token);
    else signedIn();
  }

  if (mfaToken) return <SecondFactorForm mfaToken={mfaToken} onSignedIn={signedIn} />;
  return (
    <form onSubmit={submit}>
      <label>
        New password
        <input name="password" type="password" autoComplete="new-password" required />
      </label>
      <button type="submit">Set the new password</button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
