"use client";

import { useState, type FormEvent } from "react";

/** An email and password form: the inputs are named `email` and `password`. */
export function CredentialsForm({
  submitLabel,
  passwordAutocomplete,
  onSubmit,
  passkeyAutofill = false,
}: {
  submitLabel: string;
  passwordAutocomplete: "current-password" | "new-password";
  onSubmit: (email: string, password: string) => Promise<string | null>;
  /** The browser may offer passkeys in the email field's autofill (conditional UI). */
  passkeyAutofill?: boolean;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(await onSubmit(String(form.get("email")), String(form.get("password"))));
    setBusy(false);
  }

  return (
    <form onSubmit={submit}>
      <label>
        Email
        <input name="email" type="email" autoComplete={passkeyAutofill ? "username webauthn" : "username"} required />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete={passwordAutocomplete} required />
      </label>
      <button type="submit" disabled={busy}>
        {submitLabel}
      </button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
