"use client";

import { useState, type FormEvent } from "react";

import { api, problem } from "@/api/browser";

/** Answers the `mfa_required` challenge with a code from the authenticator app or a recovery code. */
export function SecondFactorForm({ mfaToken, onSignedIn }: { mfaToken: string; onSignedIn: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget).get("code"));
    setBusy(true);
    const { error, response } = await api.POST("/api/auth/mfa/verify", {
      body: { mfa_token: mfaToken, code },
    });
    setBusy(false);
    if (response.ok) onSignedIn();
    else setError(problem(error, response));
  }

  return (
    <form onSubmit={submit}>
      <p>Enter the code from your authenticator app, or one of your recovery codes.</p>
      <label>
        Code
        <input name="code" autoComplete="one-time-code" required />
      </label>
      <button type="submit" disabled={busy}>
        Verify
      </button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
