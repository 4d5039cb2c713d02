"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";

import { problem } from "@/api/browser";
import { COOKIE_TRANSPORT } from "@/api/cookies";
import { SecondFactorForm } from "@/components/SecondFactorForm";

/** Trades the callback's code for a session (cookies) or the second-factor challenge. */
export function ProviderExchange({ code }: { code: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const sent = useRef(false); // the code is single use: post it once, even when React renders twice

  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    (async () => {
      const response = await fetch("/api/auth/providers/exchange", {
        method: "POST",
        // Sends the flow's binding cookie (set when this browser started the flow): the API
        // refuses the code without it, so a code sent to someone else's browser signs nobody in.
        credentials: "same-origin",
        headers: { ...COOKIE_TRANSPORT, "Content-Type": "application/json" },
        body: JSON.stringify({ code }),
      });
      const answer: unknown = await response.json().catch(() => null);
      if (!response.ok) return setError(problem(answer, response));
      const challenge = answer as { mfa_required?: boolean; mfa_token?: string };
      if (challenge.mfa_required && challenge.mfa_token) setMfaToken(challenge.mfa_token);
      else router.replace("/account");
    })();
  }, [code, router]);

  if (mfaToken) return <SecondFactorForm mfaToken={mfaToken} onSignedIn={() => router.replace("/account")} />;
  return error ? <p role="alert">{error}</p> : <p>Signing you in…</p>;
}
