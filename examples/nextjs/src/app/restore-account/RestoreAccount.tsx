"use client";

import Link from "next/link";
import { useState } from "react";

import { api, problem } from "@/api/browser";
import { TokenAction } from "@/components/TokenAction";

export function RestoreAccount({ token }: { token: string }) {
  const [restored, setRestored] = useState(false);

  async function restore() {
    const { data, error, response } = await api.POST("/api/auth/me/restore", { body: { token } });
    setRestored(Boolean(data));
    return data ? { ok: true, message: data.message } : { ok: false, message: problem(error, response) };
  }
  return (
    <>
      <TokenAction label="Restore my account" action={restore} />
      {restored && (
        <p>
          <Link href="/signin">Sign in</Link>
        </p>
      )}
    </>
  );
}
