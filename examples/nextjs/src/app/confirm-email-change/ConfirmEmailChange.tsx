"use client";

import { api, problem } from "@/api/browser";
import { TokenAction } from "@/components/TokenAction";

export function ConfirmEmailChange({ token }: { token: string }) {
  async function confirm() {
    const { data, error, response } = await api.POST("/api/auth/email/change/confirm", {
      body: { token },
    });
    return data
      ? { ok: true, message: `Your address is now ${data.email}.` }
      : { ok: false, message: problem(error, response) };
  }
  return <TokenAction label="Confirm the new address" action={confirm} />;
}
