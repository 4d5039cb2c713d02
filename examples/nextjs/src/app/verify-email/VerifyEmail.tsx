"use client";

import { api, problem } from "@/api/browser";
import { TokenAction } from "@/components/TokenAction";

export function VerifyEmail({ token }: { token: string }) {
  async function verify() {
    const { data, error, response } = await api.POST("/api/auth/email/verify", { body: { token } });
    return data ? { ok: true, message: data.message } : { ok: false, message: problem(error, response) };
  }
  return <TokenAction label="Verify my address" action={verify} />;
}
