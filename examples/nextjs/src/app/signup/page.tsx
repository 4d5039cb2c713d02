"use client";

import { useRouter } from "next/navigation";

import { api, problem } from "@/api/browser";
import { CredentialsForm } from "@/components/CredentialsForm";

export default function SignupPage() {
  const router = useRouter();

  async function signUp(email: string, password: string) {
    const { error, response } = await api.POST("/api/auth/signup", { body: { email, password } });
    if (!response.ok) return problem(error, response);
    router.replace("/account");
    return null;
  }

  return (
    <>
      <h1>Create an account</h1>
      <CredentialsForm submitLabel="Sign up" passwordAutocomplete="new-password" onSubmit={signUp} />
    </>
  );
}
