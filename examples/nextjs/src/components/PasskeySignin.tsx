"use client";

import { useEffect, useRef, useState } from "react";

import { api, problem } from "@/api/browser";
import { conditionalMediationAvailable, passkeyGet } from "@/api/webauthn";

/** "Sign in with a passkey", and the passkeys the browser offers in the email field's autofill
 *  (conditional UI: that field says `autocomplete="username webauthn"`). */
export function PasskeySignin({ onSignedIn }: { onSignedIn: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const conditional = useRef<AbortController | null>(null);
  // One sign-in at a time: the autofill's passkey and the button's must not both be posted.
  const posting = useRef(false);

  async function signIn(mode: "button" | "conditional") {
    const { data, error, response } = await api.POST("/api/auth/passkeys/signin/options");
    if (!data) return mode === "button" ? setError(problem(error, response)) : undefined;
    let credential;
    try {
      const controller = new AbortController();
      if (mode === "conditional") conditional.current = controller;
      credential = await passkeyGet(data.options, { conditional: mode === "conditional", signal: controller.signal });
    } catch (failure) {
      // Cancelled, or the conditional request aborted for the button's: nothing to say.
      if (mode === "button") setError(failure instanceof Error && failure.name !== "NotAllowedError" ? failure.message : null);
      return;
    }
    if (posting.current) return;
    posting.current = true;
    const answer = await api.POST("/api/auth/passkeys/signin", {
      body: { challenge_token: data.challenge_token, credential },
    });
    if (answer.response.ok) return onSignedIn(); // posting stays true: the page is leaving
    posting.current = false;
    setError(problem(answer.error, answer.response));
  }

  useEffect(() => {
    conditionalMediationAvailable().then((available) => {
      if (available) signIn("conditional");
    });
    return () => conditional.current?.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  async function click() {
    if (posting.current) return;
    conditional.current?.abort(); // one WebAuthn request at a time
    setBusy(true);
    setError(null);
    await signIn("button");
    setBusy(false);
  }

  return (
    <>
      <button type="button" onClick={click} disabled={busy}>
        Sign in with a passkey
      </button>
      {error && <p role="alert">{error}</p>}
    </>
  );
}
