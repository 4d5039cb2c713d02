"use client";

import { useState, type FormEvent } from "react";

import { api, problem } from "@/api/browser";

/** The API's answer to a dangerous action on a session that is not fresh (RFC 9470). */
export function needsReauthentication(response: Response): boolean {
  return (
    response.status === 401 &&
    (response.headers.get("WWW-Authenticate") ?? "").includes("insufficient_user_authentication")
  );
}

/**
 * Asks for the password again (input `password` in a form named "reauthenticate") and posts it to
 * /api/auth/reauthenticate: the session is then fresh for a few minutes, and `onDone` retries.
 */
export function ReauthenticateForm({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const password = String(new FormData(event.currentTarget).get("password"));
    setBusy(true);
    const { error, response } = await api.POST("/api/auth/reauthenticate", { body: { password } });
    setBusy(false);
    if (response.ok) onDone();
    else setError(problem(error, response));
  }

  return (
    <form name="reauthenticate" onSubmit={submit}>
      <p>For your safety, enter your password again.</p>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <button type="submit" disabled={busy}>
        Confirm
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
