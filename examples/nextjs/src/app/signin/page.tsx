"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";

import { api, isChallenge, problem } from "@/api/browser";
import { CredentialsForm } from "@/components/CredentialsForm";
import { ProviderButtons } from "@/components/ProviderButtons";
import { PasskeySignin } from "@/components/PasskeySignin";
import { SecondFactorForm } from "@/components/SecondFactorForm";

export default function SigninPage() {
  const router = useRouter();
  // The challenge's token is no session: it is good for one second-factor answer only.
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const signedIn = () => router.replace("/account");

  async function signIn(email: string, password: string) {
    const { data, error, response } = await api.POST("/api/auth/signin", {
      body: { email, password },
    });
    if (!data) return problem(error, response);
    if (isChallenge(data)) setMfaToken(data.mfa_token);
    else signedIn();
    return null;
  }

  return (
    <>
      <h1>Sign in</h1>
      {mfaToken ? (
        <SecondFactorForm mfaToken={mfaToken} onSignedIn={signedIn} />
      ) : (
        <>
          <CredentialsForm submitLabel="Sign in" passwordAutocomplete="current-password" onSubmit={signIn} passkeyAutofill />
          <PasskeySignin onSignedIn={signedIn} />
        </>
      )}
      {!mfaToken && <ProviderButtons />}
      <p>
        <Link href="/signin/code">Email me a code</Link> instead of a password.
      </p>
    </>
  );
}
